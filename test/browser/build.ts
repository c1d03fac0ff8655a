import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const REPO = join(__dirname, '..', '..');
const BUILT = join(REPO, 'dist', 'web', 'account.html');

function newestUnder(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The pages as `npm run build` makes them (scripts/build-web.mjs into dist/web), rebuilt only when a
 * source under web/ is newer than the build: `npm test` has built them already, and a second build
 * while another suite's service serves them would pull the files from under it.
 */
export async function buildWebPages(): Promise<void> {
  const sources = Math.max(newestUnder(join(REPO, 'web')), statSync(join(REPO, 'scripts', 'build-web.mjs')).mtimeMs);
  if (existsSync(BUILT) && statSync(BUILT).mtimeMs >= sources) return;
  await promisify(execFile)(process.execPath, [join(REPO, 'scripts', 'build-web.mjs')], { cwd: REPO });
}
