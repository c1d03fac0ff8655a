// The one build: the server (`nest build`, which empties dist/ first) and then the pages (dist/web), in
// that order, so that no path can produce one without the other. `npm start`, `npm run build`, the
// Dockerfile, the bench and the tests all come through here. Each step says what it does and how long
// it took, since a first build on a small machine takes a while.
//   node scripts/build.mjs
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWeb } from './build-web.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const say = (text) => process.stdout.write(`[build] ${text}\n`);
const started = Date.now();
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

say('compiling the server (nest build) into dist/ ...');
const nestCli = createRequire(import.meta.url).resolve('@nestjs/cli/bin/nest.js', { paths: [repo] });
const nest = spawnSync(process.execPath, [nestCli, 'build'], { cwd: repo, stdio: 'inherit' });
if (nest.status !== 0) {
  say(`nest build failed (exit ${nest.status ?? nest.signal})`);
  process.exit(nest.status ?? 1);
}
say(`server compiled in ${seconds(started)}; bundling the pages (account, admin) into dist/web ...`);
const web = Date.now();
await buildWeb();
say(`pages built in ${seconds(web)}; build done in ${seconds(started)}`);
