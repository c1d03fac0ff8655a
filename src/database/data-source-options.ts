import { DataSource, DataSourceOptions } from 'typeorm';
import { ADVISORY_LOCKS } from './locks';
import { MIGRATIONS } from './migrations';

export { MIGRATIONS };

/** The entities come from the composition root (src/entities.ts), so that the database layer names no feature. */
export type Entities = NonNullable<DataSourceOptions['entities']>;

export function dataSourceOptions(url: string, entities: Entities): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    extra: { max: 20, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30000 },
  };
}

/**
 * Applies the pending migrations under an advisory lock, so that several instances may start together.
 * `log` hears what is about to happen before it happens: a migration on a large table can take a while.
 */
export async function runMigrations(
  ds: DataSource,
  log: (message: string) => void = () => undefined,
): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCKS.migrations]);
    // logging is off, so listing the migrations prints nothing; the rows are read again by runMigrations.
    const pending = await ds.showMigrations();
    if (pending) log('applying the pending database migrations (under the migrations lock) ...');
    const done = await ds.runMigrations({ transaction: 'each' });
    return done.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCKS.migrations]).catch(() => undefined);
    await runner.release();
  }
}
