// Builds the pages of API.md 9 from web/ into dist/web/: one bundle per page (TypeScript, with its
// libraries such as @simplewebauthn/browser, nothing loaded from elsewhere), one shared style sheet,
// and each page's HTML. Run by `npm run build` after `nest build` (which empties dist/ first).
//   node scripts/build-web.mjs [outDir]
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Each page is web/<name>/index.html and web/<name>/main.ts; src/pages/pages.ts lists the same names. */
export const PAGES = ['account', 'admin', 'reset', 'oauth'];

export async function buildWeb(outDir = join(repo, 'dist', 'web')) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'assets'), { recursive: true });
  await build({
    absWorkingDir: repo,
    entryPoints: [
      ...PAGES.map((name) => ({ in: `web/${name}/main.ts`, out: name })),
      { in: 'web/shared/style.css', out: 'style' },
    ],
    outdir: join(outDir, 'assets'),
    bundle: true,
    format: 'esm',
    target: ['chrome120', 'firefox120', 'safari17'],
    minify: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    tsconfig: 'web/tsconfig.json',
    logLevel: 'warning',
  });
  for (const name of PAGES) copyFileSync(join(repo, 'web', name, 'index.html'), join(outDir, `${name}.html`));
  return outDir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildWeb(process.argv[2] ? resolve(process.argv[2]) : undefined);
  process.stdout.write(`web pages built into ${out}\n`);
}
