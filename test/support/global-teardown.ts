import { rmSync } from 'node:fs';
import type { RunningPostgres } from '../../src/database/embedded-postgres';

export default async function globalTeardown(): Promise<void> {
  const pg = (globalThis as Record<string, unknown>).__identityTestPg as RunningPostgres | undefined;
  if (!pg) return;
  await pg.stop();
  if (process.env.TEST_PG_DIR) rmSync(process.env.TEST_PG_DIR, { recursive: true, force: true });
}
