import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AccessRevoker } from '../sessions/access-revoker.service';
import { AuthUser } from '../access/auth-user';
import { CredentialCache } from '../common/credential-cache';
import { DomainError } from '../common/errors/domain-error';
import { hashSecret, newSecret } from '../common/secrets';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ADVISORY_LOCKS } from '../database/locks';
import { Role } from '../common/roles';

export const MAX_PERMANENT = 5;
const KEY_PREFIX = 'tk_';
const PREFIX_LENGTH = 11;

export interface TokenView {
  id: number;
  key: string;
  is_active: boolean;
  permanent: boolean;
  space_id: number | null;
  created: string;
  expires: string | null;
}

interface TokenRow {
  id: string;
  prefix: string;
  is_active: boolean;
  permanent: boolean;
  space_id: string | null;
  created_at: Date;
  expires_at: Date | null;
}

interface CachedToken {
  tokenId: string;
  userId: string;
  role: Role;
  spaceId: string | null;
  expiresAt: number | null;
}

/** A listing never shows a key again: only its prefix, masked, so that nobody mistakes it for a key. */
export const maskedKey = (prefix: string) => `${prefix}…`;

const view = (r: TokenRow, key?: string): TokenView => ({
  id: Number(r.id),
  key: key ?? maskedKey(r.prefix),
  is_active: r.is_active,
  permanent: r.permanent,
  space_id: r.space_id === null ? null : Number(r.space_id),
  created: r.created_at.toISOString(),
  expires: r.expires_at ? r.expires_at.toISOString() : null,
});

const COLUMNS = 'id, prefix, is_active, permanent, space_id, created_at, expires_at';

/**
 * IAM tokens (`Authorization: Token <key>`): temporary (TEMP_TOKEN_TTL) or permanent, optionally scoped
 * to a space. Keys are 256-bit secrets kept as hashes; ids (integers) and keys both address a token.
 * Checks are served from the same kind of bounded cache as the Basic check.
 */
@Injectable()
export class IamTokensService {
  private readonly cache = new CredentialCache<CachedToken>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly revoker: AccessRevoker,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    revoker.onUserChanged((userId) => this.cache.deleteUser(userId));
    revoker.onCredentialRevoked((hash) => this.cache.delete(hash));
  }

  async create(
    userId: string,
    permanent: boolean,
    spaceId: string | null = null,
    manager?: EntityManager,
  ): Promise<TokenView> {
    const run = async (m: EntityManager) => {
      if (spaceId) {
        // Waits for a concurrent deletion of the space, and then refuses (404) rather than racing it.
        const found: unknown[] = await m.query(`SELECT id FROM spaces WHERE id = $1 AND user_id = $2 FOR KEY SHARE`, [
          spaceId,
          userId,
        ]);
        if (!found.length) throw new DomainError('NOT_FOUND', 'Not found.');
      }
      if (permanent) {
        await m.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ADVISORY_LOCKS.permanentTokens, userId]);
        const [{ n }] = (await m.query(
          `SELECT count(*)::int AS n FROM iam_tokens WHERE user_id = $1 AND permanent AND space_id IS NOT DISTINCT FROM $2::bigint`,
          [userId, spaceId],
        )) as { n: number }[];
        if (n >= MAX_PERMANENT) {
          const where = spaceId ? 'in this space' : 'per user';
          throw new DomainError('VALIDATION_ERROR', `At most ${MAX_PERMANENT} permanent tokens are allowed ${where}.`, [
            {
              name: 'permanent',
              message: `At most ${MAX_PERMANENT} permanent tokens are allowed ${where}; delete one first.`,
            },
          ]);
        }
      }
      const key = KEY_PREFIX + newSecret();
      const [row] = (await m.query(
        `INSERT INTO iam_tokens (user_id, space_id, key_hash, prefix, permanent, expires_at)
         VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 THEN NULL ELSE now() + make_interval(secs => $6) END)
         RETURNING ${COLUMNS}`,
        [userId, spaceId, hashSecret(key), key.slice(0, PREFIX_LENGTH), permanent, this.config.ttlMs.tempToken / 1000],
      )) as TokenRow[];
      return view(row, key);
    };
    return manager ? run(manager) : this.dataSource.transaction(run);
  }

  /** The answer from the cache of verified tokens alone, or undefined when the token must be looked up. */
  cachedUser(presented: string): AuthUser | undefined {
    const entry = this.cache.get(this.hashOf(presented));
    return entry && this.userOf(entry);
  }

  private hashOf(presented: string): string {
    if (!presented.startsWith(KEY_PREFIX) || presented.length > 128)
      throw new DomainError('INVALID_TOKEN', 'Invalid token.');
    return hashSecret(presented);
  }

  async authenticate(presented: string): Promise<AuthUser> {
    const hash = this.hashOf(presented);
    let entry = this.cache.get(hash);
    if (!entry) {
      const [row] = (await this.dataSource.query(
        `SELECT t.id, t.user_id, t.space_id, t.is_active, t.expires_at, u.role
           FROM iam_tokens t JOIN users u ON u.id = t.user_id
          WHERE t.key_hash = $1 AND u.is_active`,
        [hash],
      )) as {
        id: string;
        user_id: string;
        space_id: string | null;
        is_active: boolean;
        expires_at: Date | null;
        role: Role;
      }[];
      if (!row) throw new DomainError('INVALID_TOKEN', 'Invalid token.');
      if (!row.is_active) throw new DomainError('INVALID_TOKEN', 'Token is inactive.');
      entry = {
        tokenId: row.id,
        userId: row.user_id,
        role: row.role,
        spaceId: row.space_id,
        expiresAt: row.expires_at?.getTime() ?? null,
      };
      this.cache.set(hash, entry, entry.expiresAt ?? undefined);
    }
    return this.userOf(entry);
  }

  private userOf(entry: CachedToken): AuthUser {
    if (entry.expiresAt !== null && entry.expiresAt <= Date.now())
      throw new DomainError('TOKEN_EXPIRED', 'Token has expired.');
    return {
      id: entry.userId,
      role: entry.role,
      scheme: 'token',
      kind: 'delegated',
      aal: 'aal1',
      credentialId: entry.tokenId,
      spaceId: entry.spaceId,
    };
  }

  /** A token addressed by its integer id or by its key; somebody else's does not exist. */
  private where(idOrKey: string): { clause: string; value: string } {
    if (/^\d{1,18}$/.test(idOrKey)) return { clause: 'id = $2::bigint', value: idOrKey };
    return { clause: 'key_hash = $2', value: hashSecret(idOrKey) };
  }

  async get(userId: string, idOrKey: string): Promise<TokenView> {
    const w = this.where(idOrKey);
    const [row] = (await this.dataSource.query(`SELECT ${COLUMNS} FROM iam_tokens WHERE user_id = $1 AND ${w.clause}`, [
      userId,
      w.value,
    ])) as TokenRow[];
    if (!row) throw new DomainError('NOT_FOUND', 'Not found.');
    return view(row);
  }

  async list(userId: string, q: { limit: number; offset: number; permanent?: boolean }): Promise<TokenView[]> {
    const rows = (await this.dataSource.query(
      `SELECT ${COLUMNS} FROM iam_tokens WHERE user_id = $1 AND ($2::boolean IS NULL OR permanent = $2::boolean)
        ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4`,
      [userId, q.permanent ?? null, q.limit, q.offset],
    )) as TokenRow[];
    return rows.map((r) => view(r));
  }

  async setActive(userId: string, idOrKey: string, isActive: boolean): Promise<TokenView> {
    const w = this.where(idOrKey);
    const [rows] = (await this.dataSource.query(
      `UPDATE iam_tokens SET is_active = $3 WHERE user_id = $1 AND ${w.clause} RETURNING ${COLUMNS}, key_hash`,
      [userId, w.value, isActive],
    )) as [(TokenRow & { key_hash: string })[], number];
    if (!rows.length) throw new DomainError('NOT_FOUND', 'Not found.');
    this.revoker.credentialRevoked(rows[0].key_hash);
    return view(rows[0]);
  }

  async remove(userId: string, idOrKey: string): Promise<void> {
    const w = this.where(idOrKey);
    const [rows] = (await this.dataSource.query(
      `DELETE FROM iam_tokens WHERE user_id = $1 AND ${w.clause} RETURNING key_hash`,
      [userId, w.value],
    )) as [{ key_hash: string }[], number];
    if (!rows.length) throw new DomainError('NOT_FOUND', 'Not found.');
    this.revoker.credentialRevoked(rows[0].key_hash);
  }

  /** Deletes every matching token of the user except the one making the request. */
  async removeAll(caller: AuthUser, permanent?: boolean): Promise<void> {
    const keep = caller.scheme === 'token' ? (caller.credentialId ?? null) : null;
    const [rows] = (await this.dataSource.query(
      `DELETE FROM iam_tokens WHERE user_id = $1 AND ($2::boolean IS NULL OR permanent = $2::boolean)
          AND ($3::bigint IS NULL OR id <> $3::bigint) RETURNING key_hash`,
      [caller.id, permanent ?? null, keep],
    )) as [{ key_hash: string }[], number];
    for (const r of rows) this.revoker.credentialRevoked(r.key_hash);
  }
}
