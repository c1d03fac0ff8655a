import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from './config/config';
import { ENTITIES } from './entities';
import { dataSourceOptions, runMigrations } from './database/data-source-options';
import { RunningPostgres, startEmbeddedPostgres } from './database/embedded-postgres';

/* eslint-disable no-console -- a command-line tool talks to its terminal */

const USAGE = 'usage: node dist/migrate.js run | revert | generate <Name>  (npm run migrate runs `run`)';

/** Writes a migration from the difference between the entities and the migrated database. */
async function generate(ds: DataSource, name: string): Promise<void> {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(name)) throw new Error('the migration name must be PascalCase, like AddStudies');
  const log = await ds.driver.createSchemaBuilder().log();
  // The schema's foreign keys, checks and named indexes are written by hand in SQL and not declared on
  // the entities, so TypeORM sees them as extra and proposes dropping them. Generation never drops:
  // a drop is a decision to write by hand.
  const isDrop = (q: string) => /^(ALTER TABLE \S+ DROP CONSTRAINT|DROP INDEX)/.test(q);
  const isRestore = (q: string) => /^(ALTER TABLE \S+ ADD CONSTRAINT|CREATE (UNIQUE )?INDEX)/.test(q);
  const skipped = log.upQueries.filter((x) => isDrop(x.query)).length;
  const sql = {
    upQueries: log.upQueries.filter((x) => !isDrop(x.query)),
    downQueries: log.downQueries.filter(
      (x) => !isRestore(x.query) || log.upQueries.some((u) => /^CREATE/.test(u.query)),
    ),
  };
  if (skipped) console.log(`left out ${skipped} drop statement(s) for hand-written constraints and indexes`);
  if (sql.upQueries.length === 0) {
    console.log('the entities and the database agree: nothing to generate');
    return;
  }
  const stamp = Date.now();
  const className = `${name}${stamp}`;
  const q = (s: string) => '`' + s.replace(/`/g, '\\`').replace(/\$\{/g, '\\${') + '`';
  const up = sql.upQueries.map((x) => `    await q.query(${q(x.query)});`).join('\n');
  const down = [...sql.downQueries]
    .reverse()
    .map((x) => `    await q.query(${q(x.query)});`)
    .join('\n');
  const src = process.env.MIGRATIONS_DIR ?? join(process.cwd(), 'src', 'database', 'migrations');
  const file = `${stamp}-${name}.ts`;
  writeFileSync(
    join(src, file),
    `import { MigrationInterface, QueryRunner } from 'typeorm';\n\nexport class ${className} implements MigrationInterface {\n` +
      `  name = '${className}';\n\n  async up(q: QueryRunner): Promise<void> {\n${up}\n  }\n\n` +
      `  async down(q: QueryRunner): Promise<void> {\n${down}\n  }\n}\n`,
  );
  const index = join(src, 'index.ts');
  const text = readFileSync(index, 'utf8')
    .replace(
      /(\nexport const MIGRATIONS = \[)/,
      `import { ${className} } from './database/${file.replace(/\.ts$/, '')}';\n$1`,
    )
    .replace(/\];\s*$/, `, ${className}];\n`);
  writeFileSync(index, text);
  console.log(`wrote src/database/migrations/${file} and registered it; review it, then npm run migration:run`);
}

async function main(): Promise<void> {
  const [command, name] = process.argv.slice(2);
  if (!['run', 'revert', 'generate'].includes(command ?? '')) throw new Error(USAGE);
  const config = loadConfig();
  console.log(
    config.databaseUrl ? 'connecting to DATABASE_URL ...' : `starting the embedded PostgreSQL of ${config.dataDir} ...`,
  );
  let embedded: RunningPostgres | undefined;
  const url =
    config.databaseUrl ??
    (embedded = await startEmbeddedPostgres({
      dir: config.dataDir,
      database: 'identity',
      log: (m, level) => level !== 'debug' && console.log(m),
    })).url;
  const ds = await new DataSource(dataSourceOptions(url, ENTITIES)).initialize();
  try {
    if (command === 'run' || command === 'generate') {
      const applied = await runMigrations(ds, (m) => console.log(m));
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'no pending migrations');
    }
    if (command === 'revert') {
      await ds.undoLastMigration({ transaction: 'each' });
      console.log('reverted the last migration');
    }
    if (command === 'generate') await generate(ds, name ?? '');
  } finally {
    await ds.destroy();
    await embedded?.stop();
  }
}

main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(e instanceof ConfigError ? 78 : 1); // EX_CONFIG, as the service itself
});
