import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

export interface SpaceRow {
  id: string;
  name: string;
  created_at: Date;
}

/** The queries of `spaces` (and of the tokens a deleted space takes with it). */
@Injectable()
export class SpacesRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(userId: string, name: string): Promise<SpaceRow> {
    const [row] = (await this.dataSource.query(
      `INSERT INTO spaces (user_id, name) VALUES ($1, $2) RETURNING id, name, created_at`,
      [userId, name],
    )) as SpaceRow[];
    return row;
  }

  /** A page of the user's spaces, each row with the total count of the matches. */
  async page(
    userId: string,
    pattern: string | null,
    limit: number,
    offset: number,
  ): Promise<(SpaceRow & { total: string })[]> {
    return (await this.dataSource.query(
      `SELECT id, name, created_at, count(*) OVER () AS total FROM spaces
        WHERE user_id = $1 AND ($2::text IS NULL OR name ILIKE $2)
        ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4`,
      [userId, pattern, limit, offset],
    )) as (SpaceRow & { total: string })[];
  }

  async count(userId: string, pattern: string | null): Promise<number> {
    const [{ n }] = (await this.dataSource.query(
      `SELECT count(*)::int AS n FROM spaces WHERE user_id = $1 AND ($2::text IS NULL OR name ILIKE $2)`,
      [userId, pattern],
    )) as { n: number }[];
    return n;
  }

  async own(userId: string, id: string): Promise<SpaceRow | undefined> {
    const [row] = (await this.dataSource.query(
      `SELECT id, name, created_at FROM spaces WHERE id = $1 AND user_id = $2`,
      [id, userId],
    )) as SpaceRow[];
    return row;
  }

  async rename(userId: string, id: string, name: string): Promise<SpaceRow | undefined> {
    const [rows] = (await this.dataSource.query(
      `UPDATE spaces SET name = $3 WHERE id = $1 AND user_id = $2 RETURNING id, name, created_at`,
      [id, userId, name],
    )) as [SpaceRow[], number];
    return rows[0];
  }

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(fn);
  }

  /** Locks the user's space until the transaction ends: a token being created in it waits. */
  async lock(userId: string, id: string, m: EntityManager): Promise<void> {
    await m.query(`SELECT id FROM spaces WHERE id = $1 AND user_id = $2 FOR UPDATE`, [id, userId]);
  }

  /** Deletes the tokens of the space; their key hashes. */
  async removeTokens(id: string, m: EntityManager): Promise<string[]> {
    const [tokens] = (await m.query(`DELETE FROM iam_tokens WHERE space_id = $1 RETURNING key_hash`, [id])) as [
      { key_hash: string }[],
      number,
    ];
    return tokens.map((t) => t.key_hash);
  }

  async remove(userId: string, id: string, m: EntityManager): Promise<void> {
    await m.query(`DELETE FROM spaces WHERE id = $1 AND user_id = $2`, [id, userId]);
  }
}
