import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { Role } from '../common/roles';
import { ApiKey } from './entities/api-key.entity';

/** A live key with its user, as a key presented is checked. */
export interface ApiKeyCheckRow {
  id: string;
  user_id: string;
  expires_at: Date | null;
  expired: boolean | null;
  role: Role;
}

/** The data access of `api_keys`. */
@Injectable()
export class ApiKeysRepository {
  constructor(@InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>) {}

  insert(k: Pick<ApiKey, 'userId' | 'name' | 'prefix' | 'keyHash' | 'expiresAt'>): Promise<ApiKey> {
    return this.keys.save(this.keys.create(k));
  }

  /** The user's unrevoked keys, the newest first. */
  listLive(userId: string): Promise<ApiKey[]> {
    return this.keys.find({ where: { userId, revokedAt: IsNull() }, order: { createdAt: 'DESC' } });
  }

  /** Revokes the user's key if it is live; its hash, or undefined when there was none. */
  async revoke(userId: string, id: string): Promise<string | undefined> {
    const { raw } = await this.keys
      .createQueryBuilder()
      .update(ApiKey)
      .set({ revokedAt: () => 'now()' })
      .where('id = :id AND user_id = :userId AND revoked_at IS NULL', { id, userId })
      .returning('key_hash')
      .execute();
    const rows = raw as { key_hash: string }[];
    return rows[0]?.key_hash;
  }

  /** The unrevoked key of this hash, if its user is active. */
  async byKeyHash(hash: string): Promise<ApiKeyCheckRow | undefined> {
    const [row] = (await this.keys.query(
      `SELECT k.id, k.user_id, k.expires_at, k.expires_at <= now() AS expired, u.role
           FROM api_keys k JOIN users u ON u.id = k.user_id
          WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND u.is_active`,
      [hash],
    )) as ApiKeyCheckRow[];
    return row;
  }

  async touch(keyId: string, at: Date): Promise<void> {
    await this.keys.update({ id: keyId }, { lastUsedAt: at });
  }
}
