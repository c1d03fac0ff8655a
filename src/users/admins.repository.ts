import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ADVISORY_LOCKS } from '../database/locks';

/**
 * The queries that keep the admins: the advisory lock under which the first admin is created and the last
 * active admin is kept, and the admin counts read under it. Transactions are opened by the services.
 */
@Injectable()
export class AdminsRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(fn);
  }

  /** Waits for the admins' lock, held until the transaction ends. */
  async lock(m: EntityManager): Promise<void> {
    await m.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.admins]);
  }

  /** Whether any admin exists (active or not), in the caller's transaction or on its own. */
  async exist(m?: EntityManager): Promise<boolean> {
    const db: Pick<EntityManager, 'query'> = m ?? this.dataSource;
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM users WHERE role = 'admin'`);
    return n > 0;
  }

  /** How many active admins there are besides this user. */
  async countOtherActive(userId: string, m: EntityManager): Promise<number> {
    const [{ n }] = await m.query(
      `SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND is_active AND id <> $1`,
      [userId],
    );
    return n as number;
  }

  /** Creates the first admin; false when the address belongs to an existing user. */
  async insertFirst(email: string, passwordHash: string, m: EntityManager): Promise<boolean> {
    const rows: unknown[] = await m.query(
      `INSERT INTO users (email, password_hash, role, email_verified, is_active, first_name, last_name)
         VALUES ($1, $2, 'admin', true, true, 'Admin', 'User')
         ON CONFLICT (email) DO NOTHING RETURNING id`,
      [email, passwordHash],
    );
    return rows.length > 0;
  }
}
