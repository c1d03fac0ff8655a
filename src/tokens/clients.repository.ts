import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface ClientRow {
  id: string;
  name: string;
  active: boolean;
  token_ttl_seconds: number | null;
  created_at: Date;
}

/** The queries of `clients`, the client applications of the key:token surface. */
@Injectable()
export class ClientsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Inserts the client unless it exists. */
  async ensure(id: string, name: string): Promise<void> {
    await this.dataSource.query(`INSERT INTO clients (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, [
      id,
      name,
    ]);
  }

  async active(id: string): Promise<{ id: string; token_ttl_seconds: number | null } | undefined> {
    const [row] = (await this.dataSource.query(`SELECT id, token_ttl_seconds FROM clients WHERE id = $1 AND active`, [
      id,
    ])) as {
      id: string;
      token_ttl_seconds: number | null;
    }[];
    return row;
  }

  async list(): Promise<ClientRow[]> {
    return (await this.dataSource.query(`SELECT * FROM clients ORDER BY created_at, id`)) as ClientRow[];
  }

  /** The new client, or undefined when the id is taken. */
  async insert(id: string, name: string, ttl: number | null): Promise<ClientRow | undefined> {
    const [row] = (await this.dataSource.query(
      `INSERT INTO clients (id, name, token_ttl_seconds) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING *`,
      [id, name, ttl],
    )) as ClientRow[];
    return row;
  }

  async update(
    id: string,
    change: { name?: string; active?: boolean; token_ttl_seconds?: number | null },
  ): Promise<ClientRow | undefined> {
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
    return rows[0];
  }
}
