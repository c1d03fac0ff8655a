import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AccessRevoker } from '../sessions/access-revoker.service';
import { AuthUser } from '../access/auth-user';
import { CredentialCache } from '../common/credential-cache';
import { DomainError } from '../common/errors/domain-error';
import { hashSecret, newSecret } from '../common/secrets';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { Role } from '../common/roles';
import { IamTokensRepository, type TokenRow } from './iam-tokens.repository';

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

/**
 * IAM tokens (`Authorization: Token <key>`): temporary (TEMP_TOKEN_TTL) or permanent, optionally scoped
 * to a space. Keys are 256-bit secrets kept as hashes; ids (integers) and keys both address a token.
 * Checks are served from the same kind of bounded cache as the Basic check.
 */
@Injectable()
export class IamTokensService {
  private readonly cache = new CredentialCache<CachedToken>();

  constructor(
    private readonly repo: IamTokensRepository,
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
        if (!(await this.repo.shareSpace(spaceId, userId, m))) throw new DomainError('NOT_FOUND', 'Not found.');
      }
      if (permanent) {
        await this.repo.lockPermanent(userId, m);
        const n = await this.repo.countPermanent(userId, spaceId, m);
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
      const row = await this.repo.insert(
        {
          userId,
          spaceId,
          keyHash: hashSecret(key),
          prefix: key.slice(0, PREFIX_LENGTH),
          permanent,
          ttlSec: this.config.ttlMs.tempToken / 1000,
        },
        m,
      );
      return view(row, key);
    };
    return manager ? run(manager) : this.repo.transaction(run);
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
      const row = await this.repo.byKeyHash(hash);
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
  async get(userId: string, idOrKey: string): Promise<TokenView> {
    const row = await this.repo.get(userId, idOrKey);
    if (!row) throw new DomainError('NOT_FOUND', 'Not found.');
    return view(row);
  }

  async list(userId: string, q: { limit: number; offset: number; permanent?: boolean }): Promise<TokenView[]> {
    const rows = await this.repo.list(userId, q);
    return rows.map((r) => view(r));
  }

  async setActive(userId: string, idOrKey: string, isActive: boolean): Promise<TokenView> {
    const row = await this.repo.setActive(userId, idOrKey, isActive);
    if (!row) throw new DomainError('NOT_FOUND', 'Not found.');
    this.revoker.credentialRevoked(row.key_hash);
    return view(row);
  }

  async remove(userId: string, idOrKey: string): Promise<void> {
    const keyHash = await this.repo.remove(userId, idOrKey);
    if (!keyHash) throw new DomainError('NOT_FOUND', 'Not found.');
    this.revoker.credentialRevoked(keyHash);
  }

  /** Deletes every matching token of the user except the one making the request. */
  async removeAll(caller: AuthUser, permanent?: boolean): Promise<void> {
    const keep = caller.scheme === 'token' ? (caller.credentialId ?? null) : null;
    const deleted = await this.repo.removeAll(caller.id, permanent ?? null, keep);
    for (const hash of deleted) this.revoker.credentialRevoked(hash);
  }
}
