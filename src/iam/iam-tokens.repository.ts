import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Role } from '../common/roles';
import { hashSecret } from '../common/secrets';
import { ADVISORY_LOCKS } from '../database/locks';

export interface TokenRow {
  id: string;
  prefix: string;
  is_active: boolean;
  permanent: boolean;
  space_id: string | null;
  created_at: Date;
  expires_at: Date | null;
}

/** A token with its user, as a key presented is checked. */
export interface TokenCheckRow {
  id: string;
  user_id: string;
  space_id: string | null;
  is_active: boolean;
  expires_at: Date | null;
  role: Role;
}

const COLUMNS = 'id, prefix, is_active, permanent, space_id, created_at, expires_at';

/** A token addressed by its integer id or by its key; somebody else's does not exist. */
const where = (idOrKey: string): { clause: string; value: string } => {
  if (/^\d{1,18}$/.test(idOrKey)) return { clause: 'id = $2::bigint', value: idOrKey };
  return { clause: 'key_hash = $2', value: hashSecret(idOrKey) };
};

/** The queries of `iam_tokens`; transactions are opened by the service. */
@Injectable()
export class IamTokensRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(fn);
  }

  /** Whether the space is the user's; holds a key-share lock, so a concurrent deletion is waited for. */
  async shareSpace(spaceId: string, userId: string, m: EntityManager): Promise<boolean> {
    const found: unknown[] = await m.query(`SELECT id FROM spaces WHERE id = $1 AND user_id = $2 FOR KEY SHARE`, [
      spaceId,
      userId,
    ]);
    return found.length > 0;
  }

  /** Serializes the creation of a user's permanent tokens until the transaction ends. */
  async lockPermanent(userId: string, m: EntityManager): Promise<void> {
    await m.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ADVISORY_LOCKS.permanentTokens, userId]);
  }

  async countPermanent(userId: string, spaceId: string | null, m: EntityManager): Promise<number> {
    const [{ n }] = (await m.query(
      `SELECT count(*)::int AS n FROM iam_tokens WHERE user_id = $1 AND permanent AND space_id IS NOT DISTINCT FROM $2::bigint`,
      [userId, spaceId],
    )) as { n: number }[];
    return n;
  }

  async insert(
    t: { userId: string; spaceId: string | null; keyHash: string; prefix: string; permanent: boolean; ttlSec: number },
    m: EntityManager,
  ): Promise<TokenRow> {
    const [row] = (await m.query(
      `INSERT INTO iam_tokens (user_id, space_id, key_hash, prefix, permanent, expires_at)
         VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 THEN NULL ELSE now() + make_interval(secs => $6) END)
         RETURNING ${COLUMNS}`,
      [t.userId, t.spaceId, t.keyHash, t.prefix, t.permanent, t.ttlSec],
    )) as TokenRow[];
    return row;
  }

  /** The token of this key hash, if its user is active. */
  async byKeyHash(hash: string): Promise<TokenCheckRow | undefined> {
    const [row] = (await this.dataSource.query(
      `SELECT t.id, t.user_id, t.space_id, t.is_active, t.expires_at, u.role
           FROM iam_tokens t JOIN users u ON u.id = t.user_id
          WHERE t.key_hash = $1 AND u.is_active`,
      [hash],
    )) as TokenCheckRow[];
    return row;
  }

  async get(userId: string, idOrKey: string): Promise<TokenRow | undefined> {
    const w = where(idOrKey);
    const [row] = (await this.dataSource.query(`SELECT ${COLUMNS} FROM iam_tokens WHERE user_id = $1 AND ${w.clause}`, [
      userId,
      w.value,
    ])) as TokenRow[];
    return row;
  }

  async list(userId: string, q: { limit: number; offset: number; permanent?: boolean }): Promise<TokenRow[]> {
    return (await this.dataSource.query(
      `SELECT ${COLUMNS} FROM iam_tokens WHERE user_id = $1 AND ($2::boolean IS NULL OR permanent = $2::boolean)
        ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4`,
      [userId, q.permanent ?? null, q.limit, q.offset],
    )) as TokenRow[];
  }

  async setActive(
    userId: string,
    idOrKey: string,
    isActive: boolean,
  ): Promise<(TokenRow & { key_hash: string }) | undefined> {
    const w = where(idOrKey);
    const [rows] = (await this.dataSource.query(
      `UPDATE iam_tokens SET is_active = $3 WHERE user_id = $1 AND ${w.clause} RETURNING ${COLUMNS}, key_hash`,
      [userId, w.value, isActive],
    )) as [(TokenRow & { key_hash: string })[], number];
    return rows[0];
  }

  /** Deletes the user's token; its key hash, or undefined when there was none. */
  async remove(userId: string, idOrKey: string): Promise<string | undefined> {
    const w = where(idOrKey);
    const [rows] = (await this.dataSource.query(
      `DELETE FROM iam_tokens WHERE user_id = $1 AND ${w.clause} RETURNING key_hash`,
      [userId, w.value],
    )) as [{ key_hash: string }[], number];
    return rows[0]?.key_hash;
  }

  /** Deletes every matching token of the user but `keep`; the key hashes deleted. */
  async removeAll(userId: string, permanent: boolean | null, keep: string | null): Promise<string[]> {
    const [rows] = (await this.dataSource.query(
      `DELETE FROM iam_tokens WHERE user_id = $1 AND ($2::boolean IS NULL OR permanent = $2::boolean)
          AND ($3::bigint IS NULL OR id <> $3::bigint) RETURNING key_hash`,
      [userId, permanent, keep],
    )) as [{ key_hash: string }[], number];
    return rows.map((r) => r.key_hash);
  }
}
