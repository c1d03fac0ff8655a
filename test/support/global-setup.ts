import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';

/**
 * One PostgreSQL server for the whole run (each Jest worker gets its own database on it). With
 * TEST_DATABASE_URL set, that server is used instead and nothing is started.
 */
export default async function globalSetup(): Promise<void> {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 24 || (major === 24 && minor < 9)) {
    throw new Error(
      `The suites run on Node.js 24.9+ (Jest loads ES modules by require there); this is ${process.version}. ` +
        'Run them through npm (npm test, or npm run jest -- <path>): it puts the Node of the devDependency `node` first.',
    );
  }
  if (process.env.TEST_DATABASE_URL) return;
  const dir = mkdtempSync(join(tmpdir(), 'identity-test-'));
  chmodSync(dir, 0o755); // the postgres system user must be able to enter it
  const pg = await startEmbeddedPostgres({ dir, database: 'identity_test' });
  process.env.TEST_DATABASE_URL = pg.url;
  process.env.TEST_PG_DIR = dir;
  (globalThis as Record<string, unknown>).__identityTestPg = pg;
}
