import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AccessRevoker } from '../sessions/access-revoker.service';
import { DomainError } from '../common/errors/domain-error';

export interface SpaceView {
  id: number;
  name: string;
  created: string;
}

interface SpaceRow {
  id: string;
  name: string;
  created_at: Date;
}

const view = (r: SpaceRow): SpaceView => ({ id: Number(r.id), name: r.name, created: r.created_at.toISOString() });

/** Spaces group a user's IAM tokens; a user reaches only its own (anybody else's is 404). */
@Injectable()
export class SpacesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly revoker: AccessRevoker,
  ) {}

  async create(userId: string, name: string): Promise<SpaceView> {
    const [row] = (await this.dataSource.query(
      `INSERT INTO spaces (user_id, name) VALUES ($1, $2) RETURNING id, name, created_at`,
      [userId, name],
    )) as SpaceRow[];
    return view(row);
  }

  async list(
    userId: string,
    q: { search?: string; limit: number; offset: number },
  ): Promise<{ results: SpaceView[]; count: number }> {
    const pattern = q.search ? `%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
    const rows = (await this.dataSource.query(
      `SELECT id, name, created_at, count(*) OVER () AS total FROM spaces
        WHERE user_id = $1 AND ($2::text IS NULL OR name ILIKE $2)
        ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4`,
      [userId, pattern, q.limit, q.offset],
    )) as (SpaceRow & { total: string })[];
    let count = rows.length ? Number(rows[0].total) : 0;
    if (!rows.length && q.offset > 0) {
      const [{ n }] = (await this.dataSource.query(
        `SELECT count(*)::int AS n FROM spaces WHERE user_id = $1 AND ($2::text IS NULL OR name ILIKE $2)`,
        [userId, pattern],
      )) as { n: number }[];
      count = n;
    }
    return { results: rows.map(view), count };
  }

  /** The space's database id, if it belongs to the user. */
  async own(userId: string, id: string): Promise<SpaceView> {
    if (!/^\d{1,18}$/.test(id)) throw new DomainError('NOT_FOUND', 'Not found.');
    const [row] = (await this.dataSource.query(
      `SELECT id, name, created_at FROM spaces WHERE id = $1 AND user_id = $2`,
      [id, userId],
    )) as SpaceRow[];
    if (!row) throw new DomainError('NOT_FOUND', 'Not found.');
    return view(row);
  }

  async rename(userId: string, id: string, name: string): Promise<SpaceView> {
    await this.own(userId, id);
    const [rows] = (await this.dataSource.query(
      `UPDATE spaces SET name = $3 WHERE id = $1 AND user_id = $2 RETURNING id, name, created_at`,
      [id, userId, name],
    )) as [SpaceRow[], number];
    if (!rows.length) throw new DomainError('NOT_FOUND', 'Not found.');
    return view(rows[0]);
  }

  /** Deleting a space deletes its tokens, which are refused at once. */
  async remove(userId: string, id: string): Promise<void> {
    await this.own(userId, id);
    await this.dataSource.transaction(async (m) => {
      // Locked first: a token being created in this space waits, then finds the space gone (404),
      // instead of being created and silently removed by the cascade.
      await m.query(`SELECT id FROM spaces WHERE id = $1 AND user_id = $2 FOR UPDATE`, [id, userId]);
      const [tokens] = (await m.query(`DELETE FROM iam_tokens WHERE space_id = $1 RETURNING key_hash`, [id])) as [
        { key_hash: string }[],
        number,
      ];
      await m.query(`DELETE FROM spaces WHERE id = $1 AND user_id = $2`, [id, userId]);
      for (const t of tokens) this.revoker.credentialRevoked(t.key_hash);
    });
  }
}
