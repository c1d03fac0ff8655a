import { DataSource, DataSourceOptions } from 'typeorm';
import { Appointment } from '../appointments/appointment.entity';
import { AuditEvent } from '../audit/audit-event.entity';
import { LoginSession } from '../auth/entities/login-session.entity';
import { RefreshToken } from '../auth/entities/refresh-token.entity';
import { MagicLink } from '../magic-link/magic-link.entity';
import { AssessmentSession, Submission } from '../sessions/entities';
import { Study } from '../studies/study.entity';
import { ApiKey } from '../tokens/entities/api-key.entity';
import { User } from '../users/entities/user.entity';
import { ADVISORY_LOCKS } from './locks';
import { MIGRATIONS } from './migrations';

export const ENTITIES = [
  User,
  LoginSession,
  RefreshToken,
  ApiKey,
  Study,
  AuditEvent,
  MagicLink,
  AssessmentSession,
  Submission,
  Appointment,
];
export { MIGRATIONS };

export function dataSourceOptions(url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    extra: { max: 20, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30000 },
  };
}

export async function runMigrations(ds: DataSource): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCKS.migrations]);
    const done = await ds.runMigrations({ transaction: 'each' });
    return done.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCKS.migrations]).catch(() => undefined);
    await runner.release();
  }
}
