import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError } from '../common/errors/domain-error';
import { APP_CONFIG, type AppConfig } from '../config/config';

export interface ClientView {
  id: string;
  name: string;
  active: boolean;
  token_ttl_seconds: number | null;
  created_at: string;
}

interface ClientRow {
  id: string;
  name: string;
  active: boolean;
  token_ttl_seconds: number | null;
  created_at: Date;
}

const view = (r: ClientRow): ClientView => ({ ...r, created_at: r.created_at.toISOString() });

/** The client applications of the key:token surface; every credential belongs to one. */
@Injectable()
export class ClientsService implements OnApplicationBootstrap {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.dataSource.query(`INSERT INTO clients (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, [
      this.config.defaultClientId,
      'Default client',
    ]);
  }

  /** An active client and the lifetime of its credentials, or `400 Invalid client ID`. */
  async activeClient(id: unknown): Promise<{ id: string; ttlMs: number }> {
    if (typeof id !== 'string' || id.length === 0 || id.length > 64)
      throw new DomainError('INVALID_CLIENT', 'Invalid client ID');
    const [row] = (await this.dataSource.query(`SELECT id, token_ttl_seconds FROM clients WHERE id = $1 AND active`, [
      id,
    ])) as {
      id: string;
      token_ttl_seconds: number | null;
    }[];
    if (!row) throw new DomainError('INVALID_CLIENT', 'Invalid client ID');
    return { id: row.id, ttlMs: row.token_ttl_seconds ? row.token_ttl_seconds * 1000 : this.config.ttlMs.keyToken };
  }

  async list(): Promise<ClientView[]> {
    return ((await this.dataSource.query(`SELECT * FROM clients ORDER BY created_at, id`)) as ClientRow[]).map(view);
  }

  async create(id: string, name: string, ttl: number | null): Promise<ClientView> {
    const [row] = (await this.dataSource.query(
      `INSERT INTO clients (id, name, token_ttl_seconds) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING *`,
      [id, name, ttl],
    )) as ClientRow[];
    if (!row) throw new DomainError('CONFLICT', 'A client with this id already exists');
    return view(row);
  }

  async update(
    id: string,
    change: { name?: string; active?: boolean; token_ttl_seconds?: number | null },
  ): Promise<ClientView> {
    const [rows] = (await this.dataSource.query(
      `UPDATE clients SET name = COALESCE($2, name), active = COALESCE($3, active),
              token_ttl_seconds = CASE WHEN $4::boolean THEN $5::integer ELSE token_ttl_seconds END
        WHERE id = $1 RETURNING *`,
      [
        id,
        change.name ?? null,
        change.active ?? null,
        change.token_ttl_seconds !== undefined,
        change.token_ttl_seconds ?? null,
      ],
    )) as [ClientRow[], number];
    if (!rows.length) throw new DomainError('NOT_FOUND', 'Client not found');
    return view(rows[0]);
  }
}
