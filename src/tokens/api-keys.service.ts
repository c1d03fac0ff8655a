import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AccessRevoker } from '../sessions/access-revoker.service';
import { AuthUser } from '../access/auth-user';
import { CredentialCache } from '../common/credential-cache';
import { DomainError } from '../common/errors/domain-error';
import { hashSecret, newSecret } from '../common/secrets';
import { Role } from '../common/roles';
import { ApiKey } from './entities/api-key.entity';
import { isUuid } from '../common/identifiers';

const KEY_PREFIX = 'pk_';
const PREFIX_LENGTH = 11;
const MAX_KEY_LENGTH = 200;

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

export interface NewApiKey extends Omit<ApiKeyView, 'last_used_at'> {
  key: string;
}

interface CachedKey {
  keyId: string;
  userId: string;
  role: Role;
}

const view = (k: ApiKey): ApiKeyView => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  created_at: k.createdAt.toISOString(),
  expires_at: k.expiresAt?.toISOString() ?? null,
  last_used_at: k.lastUsedAt?.toISOString() ?? null,
});

/**
 * API keys for programs: shown once, stored as a SHA-256 hash, acting with the owner's current role.
 * Checks are served from a bounded cache that lives at most a second and is cleared at once on this
 * instance (and through Redis on the others) when a key is deleted or its owner changes.
 */
@Injectable()
export class ApiKeysService {
  private readonly cache = new CredentialCache<CachedKey>();
  private readonly lastUsedWritten = new Map<string, number>();

  constructor(
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
    private readonly revoker: AccessRevoker,
    private readonly audit: AuditService,
  ) {
    revoker.onUserChanged((userId) => this.cache.deleteUser(userId));
    revoker.onCredentialRevoked((hash) => this.cache.delete(hash));
  }

  async create(userId: string, name: string, expiresInDays: number | undefined, ip?: string): Promise<NewApiKey> {
    const key = KEY_PREFIX + newSecret();
    const saved = await this.keys.save(
      this.keys.create({
        userId,
        name: name.trim(),
        prefix: key.slice(0, PREFIX_LENGTH),
        keyHash: hashSecret(key),
        expiresAt: expiresInDays ? new Date(Date.now() + expiresInDays * 86_400_000) : null,
      }),
    );
    await this.audit.record('api_key_created', {
      userId,
      actorId: userId,
      ip,
      details: { key_id: saved.id, name: saved.name },
    });
    const { last_used_at: _unused, ...rest } = view(saved);
    return { ...rest, key };
  }

  async list(userId: string): Promise<ApiKeyView[]> {
    const rows = await this.keys.find({ where: { userId, revokedAt: IsNull() }, order: { createdAt: 'DESC' } });
    return rows.map(view);
  }

  async revoke(userId: string, id: string, ip?: string): Promise<void> {
    if (!isUuid(id)) throw new DomainError('NOT_FOUND', 'API key not found');
    const { raw } = await this.keys
      .createQueryBuilder()
      .update(ApiKey)
      .set({ revokedAt: () => 'now()' })
      .where('id = :id AND user_id = :userId AND revoked_at IS NULL', { id, userId })
      .returning('key_hash')
      .execute();
    const rows = raw as { key_hash: string }[];
    if (!rows.length) throw new DomainError('NOT_FOUND', 'API key not found');
    this.revoker.credentialRevoked(rows[0].key_hash);
    await this.audit.record('api_key_revoked', { userId, actorId: userId, ip, details: { key_id: id } });
  }

  /** The answer from the cache of verified keys alone, or undefined when the key must be looked up. */
  cachedUser(presented: unknown): AuthUser | undefined {
    const entry = this.cache.get(this.hashOf(presented));
    return entry && { id: entry.userId, role: entry.role, scheme: 'api-key', kind: 'delegated', aal: 'aal1' };
  }

  private hashOf(presented: unknown): string {
    if (typeof presented !== 'string' || !presented.startsWith(KEY_PREFIX) || presented.length > MAX_KEY_LENGTH) {
      throw new DomainError('INVALID_TOKEN', 'API key is invalid, expired or revoked');
    }
    return hashSecret(presented);
  }

  async authenticate(presented: unknown): Promise<AuthUser> {
    const hash = this.hashOf(presented);
    let entry = this.cache.get(hash);
    if (!entry) {
      const [row] = (await this.keys.query(
        `SELECT k.id, k.user_id, k.expires_at, k.expires_at <= now() AS expired, u.role
           FROM api_keys k JOIN users u ON u.id = k.user_id
          WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND u.is_active`,
        [hash],
      )) as { id: string; user_id: string; expires_at: Date | null; expired: boolean | null; role: Role }[];
      if (!row) throw new DomainError('INVALID_TOKEN', 'API key is invalid, expired or revoked');
      if (row.expired) throw new DomainError('TOKEN_EXPIRED', 'API key has expired');
      entry = { keyId: row.id, userId: row.user_id, role: row.role };
      this.cache.set(hash, entry, row.expires_at?.getTime());
      this.touch(row.id);
    }
    return { id: entry.userId, role: entry.role, scheme: 'api-key', kind: 'delegated', aal: 'aal1' };
  }

  /** Records use at most once a minute per key, off the request's path. */
  private touch(keyId: string): void {
    const now = Date.now();
    if ((this.lastUsedWritten.get(keyId) ?? 0) > now - 60_000) return;
    this.lastUsedWritten.set(keyId, now);
    if (this.lastUsedWritten.size > 10_000) this.lastUsedWritten.clear();
    this.keys.update({ id: keyId }, { lastUsedAt: new Date(now) }).catch(() => undefined);
  }
}
