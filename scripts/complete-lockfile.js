#!/usr/bin/env node
/**
 * The package registry reachable from these machines serves only the Linux builds of some native
 * packages (unrs-resolver's bindings, for instance). `npm install` then writes a lockfile without the
 * other platforms' optional entries, and `npm ci` refuses it. This adds those entries, marked optional
 * and restricted to their platform, so that `npm ci` skips them here as it would anywhere else.
 * Run it after `npm install` changes the lockfile: `node scripts/complete-lockfile.js`.
 */
const fs = require('fs');
const path = require('path');

const lockPath = path.join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
const packages = lock.packages;

function platformOf(name) {
  const tail = name.split('/').pop();
  const os = ['android', 'darwin', 'freebsd', 'linux', 'openharmony', 'win32', 'wasm32', 'netbsd', 'openbsd', 'sunos', 'aix'].find(
    (o) => tail.includes(`-${o}-`) || tail.endsWith(`-${o}`),
  );
  const cpu = ['arm64', 'arm', 'x64', 'ia32', 'loong64', 'ppc64', 'riscv64', 's390x', 'wasm32'].find((c) =>
    new RegExp(`-${c}(-|$)`).test(tail),
  );
  if (!os && !cpu) return null;
  if (os === 'wasm32') return { cpu: ['wasm32'] };
  return { ...(os ? { os: [os] } : {}), ...(cpu ? { cpu: [cpu] } : {}) };
}

let added = 0;
for (const [key, meta] of Object.entries(packages)) {
  if (!meta.optionalDependencies) continue;
  const base = key === '' ? 'node_modules/' : `${key}/node_modules/`;
  for (const [dep, version] of Object.entries(meta.optionalDependencies)) {
    if (packages[`${base}${dep}`] || packages[`node_modules/${dep}`]) continue;
    const platform = platformOf(dep);
    if (!platform) continue;
    packages[`node_modules/${dep}`] = { version, ...platform, optional: true, ...(meta.dev ? { dev: true } : {}) };
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
lock.packages = sorted;
fs.writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n');
console.log(`complete-lockfile: added ${added} platform-specific optional entries`);
