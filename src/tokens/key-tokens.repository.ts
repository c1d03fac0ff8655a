import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Role } from '../common/roles';

/** A live pair with its user and client, as a key presented is checked. */
export interface PairCheckRow {
  id: string;
  user_id: string;
  client_id: string;
  token_hash: string;
  expires_at: Date;
  expired: boolean;
  role: Role;
}

export interface NewPair {
  userId: string;
  clientId: string;
  familyId: string | null;
  key: string;
  tokenHash: string;
  refreshHash: string;
  expiresAt: Date;
}

/** The queries of `key_tokens` (key:token pairs); transactions are opened by the service. */
@Injectable()
export class KeyTokensRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(fn);
  }

  /** A new pair, in the family given or in a new one. */
  async insert(p: NewPair, m: EntityManager): Promise<void> {
    await m.query(
      `INSERT INTO key_tokens (user_id, client_id, family_id, key, token_hash, refresh_hash, expires_at)
       VALUES ($1, $2, COALESCE($3::uuid, gen_random_uuid()), $4, $5, $6, $7)`,
      [p.userId, p.clientId, p.familyId, p.key, p.tokenHash, p.refreshHash, p.expiresAt],
    );
  }

  /** The unrevoked pair of this key, if its user and its client are active. */
  async byKey(key: string): Promise<PairCheckRow | undefined> {
    const [row] = (await this.dataSource.query(
      `SELECT kt.id, kt.user_id, kt.client_id, kt.token_hash, kt.expires_at, kt.expires_at <= now() AS expired, u.role
           FROM key_tokens kt JOIN users u ON u.id = kt.user_id JOIN clients c ON c.id = kt.client_id
          WHERE kt.key = $1 AND kt.revoked_at IS NULL AND u.is_active AND c.active`,
      [key],
    )) as PairCheckRow[];
    return row;
  }

  /** Spends a live refresh token (one conditional UPDATE): the pair it ended, or undefined when it was not live. */
  async takeRefresh(
    key: string,
    clientId: string,
    refreshHash: string,
    m: EntityManager,
  ): Promise<{ id: string; user_id: string; family_id: string } | undefined> {
    const [won] = (await m.query(
      `UPDATE key_tokens SET rotated_at = now(), revoked_at = now()
          WHERE key = $1 AND client_id = $2 AND refresh_hash = $3
            AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > now()
          RETURNING id, user_id, family_id`,
      [key, clientId, refreshHash],
    )) as [{ id: string; user_id: string; family_id: string }[], number];
    return won[0];
  }

  async userActive(userId: string, m: EntityManager): Promise<boolean> {
    const active: unknown[] = await m.query(`SELECT 1 FROM users WHERE id = $1 AND is_active`, [userId]);
    return active.length > 0;
  }

  /** The pair a refresh token belonged to, and whether it was used already. */
  async seenRefresh(
    refreshHash: string,
    m: EntityManager,
  ): Promise<{ family_id: string; user_id: string; used: boolean } | undefined> {
    const [seen] = (await m.query(
      `SELECT family_id, user_id, rotated_at IS NOT NULL AS used FROM key_tokens WHERE refresh_hash = $1`,
      [refreshHash],
    )) as { family_id: string; user_id: string; used: boolean }[];
    return seen;
  }

  /** Revokes every live pair of a family; the keys revoked. */
  async revokeFamily(familyId: string): Promise<string[]> {
    const [rows] = (await this.dataSource.query(
      `UPDATE key_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL RETURNING key`,
      [familyId],
    )) as [{ key: string }[], number];
    return rows.map((r) => r.key);
  }

  /** Revokes one pair if it is live; the keys revoked. */
  async revoke(pairId: string): Promise<string[]> {
    const [rows] = (await this.dataSource.query(
      `UPDATE key_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING key`,
      [pairId],
    )) as [{ key: string }[], number];
    return rows.map((r) => r.key);
  }

  /** Whether any user has this address. */
  async emailTaken(email: string): Promise<boolean> {
    const [taken] = (await this.dataSource.query(`SELECT 1 FROM users WHERE email = $1`, [email])) as unknown[];
    return Boolean(taken);
  }
}
