import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { type ClientRow, ClientsRepository } from './clients.repository';

export interface ClientView {
  id: string;
  name: string;
  active: boolean;
  token_ttl_seconds: number | null;
  created_at: string;
}

const view = (r: ClientRow): ClientView => ({ ...r, created_at: r.created_at.toISOString() });

/** The client applications of the key:token surface; every credential belongs to one. */
@Injectable()
export class ClientsService implements OnApplicationBootstrap {
  constructor(
    private readonly repo: ClientsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.repo.ensure(this.config.defaultClientId, 'Default client');
  }

  /** An active client and the lifetime of its credentials, or `400 Invalid client ID`. */
  async activeClient(id: unknown): Promise<{ id: string; ttlMs: number }> {
    if (typeof id !== 'string' || id.length === 0 || id.length > 64)
      throw new DomainError('INVALID_CLIENT', 'Invalid client ID');
    const row = await this.repo.active(id);
    if (!row) throw new DomainError('INVALID_CLIENT', 'Invalid client ID');
    return { id: row.id, ttlMs: row.token_ttl_seconds ? row.token_ttl_seconds * 1000 : this.config.ttlMs.keyToken };
  }

  async list(): Promise<ClientView[]> {
    return (await this.repo.list()).map(view);
  }

  async create(id: string, name: string, ttl: number | null): Promise<ClientView> {
    const row = await this.repo.insert(id, name, ttl);
    if (!row) throw new DomainError('CONFLICT', 'A client with this id already exists');
    return view(row);
  }

  async update(
    id: string,
    change: { name?: string; active?: boolean; token_ttl_seconds?: number | null },
  ): Promise<ClientView> {
    const row = await this.repo.update(id, change);
    if (!row) throw new DomainError('NOT_FOUND', 'Client not found');
    return view(row);
  }
}
