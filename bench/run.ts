/* eslint-disable no-console -- a benchmark reports to its terminal */
/**
 * npm run bench [-- --quick] [-- --users N] [-- --scale [--users N]] [-- --algorithms HS256,ES256]
 *
 * Starts the production build on a fresh embedded PostgreSQL with the rate limits off, seeds what each
 * scenario needs, drives it over loopback with autocannon and prints one table (also bench/results.json).
 * Every figure is also given as a ratio to a limit measured in the same run (a bare node:http server,
 * measured before and after; the argon2 verification rate for the login scenario), since these
 * machines are shared and noisy.
 *
 * --users N   users in the database (default 1,000), with two tokens per user besides (refresh tokens,
 *             API keys, key:token pairs and IAM tokens, half a user's worth of each).
 * --scale     the table twice in one run: at 1,000 users, then at --users (default 1,000,000), with the
 *             p50 of each scenario compared and the plans of the hot lookups shown (EXPLAIN).
 * --algorithms  the JWT_ALGORITHMs whose jwt scenario is measured (default HS256,ES256): every table runs
 *             on HS256; each other algorithm starts a second service on a database of its own and adds a
 *             row `jwt-<alg>` (the same GET /api/auth/me with one of its tokens) to the first table.
 * --metrics   the service runs with METRICS_PORT set (Prometheus metrics on, scraped every second during
 *             the run, as a busy Prometheus would), to compare with a run without: what metrics cost.
 */
import * as argon2 from 'argon2';
import autocannon from 'autocannon';
import { ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { SecretBox } from '../src/common/secret-box';
import { RATE_LIMITS_OFF } from '../src/config/config';
import { hashSecret, newSecret } from '../src/common/secrets';
import { newTotpSeed, totpOf } from '../src/mfa/codes';
import { freePort, startEmbeddedPostgres } from '../src/database/embedded-postgres';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string): number | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) || undefined : undefined;
};
const QUICK = flag('--quick');
const ALGORITHMS = (args.includes('--algorithms') ? (args[args.indexOf('--algorithms') + 1] ?? '') : 'HS256,ES256')
  .split(',')
  .map((a) => a.trim().toUpperCase())
  .filter(Boolean);
const SCALE = flag('--scale');
const METRICS = flag('--metrics');
const SIZES = SCALE ? [1000, option('--users') ?? 1_000_000] : [option('--users') ?? 1000];
const DURATION = QUICK ? 3 : 10;
const WARMUP = QUICK ? 1 : 2;
const CONNECTIONS = 32;
const ROOT = join(__dirname, '..');
const ADMIN_EMAIL = 'bench-admin@example.org';
const ADMIN_PASSWORD = 'Quartz-Harbor-Meadow-91';
const USER_PASSWORD = 'Bench-User-Passw0rd';
const ARGON2 = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

interface Row {
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  /** Mean latency, to the hundredth of a millisecond (autocannon's percentiles are whole milliseconds). */
  mean: number;
  errors: number;
  ratio: number | null;
  of: string;
  rssMb?: number;
  /** The service's CPU time (user and system, all threads) per request of the scenario, in µs. */
  cpuUs?: number;
  note?: string;
}

interface Table {
  users: number;
  tokens: number;
  rows: Row[];
  plans: Record<string, string>;
  peakRssMb: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the bench reads documented JSON bodies
type Json = any;

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Json> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function waitFor(url: string, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}

function once(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, duration: DURATION, ...opts }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

/** Each scenario is measured after a short warm-up on the same route, so that it measures compiled code. */
async function run(opts: autocannon.Options): Promise<autocannon.Result> {
  await once({ ...opts, duration: WARMUP });
  return once(opts);
}

const errorsOf = (r: autocannon.Result) => r.errors + r.timeouts + r.non2xx;

/** A bare node:http hello world in its own process: what Node itself serves here, right now. */
async function measureLimit(): Promise<number> {
  const port = await freePort();
  const child = fork(join(__dirname, 'hello-server.js'), [String(port)], { stdio: 'ignore' });
  try {
    await waitFor(`http://127.0.0.1:${port}/`);
    const r = await run({ url: `http://127.0.0.1:${port}/` });
    return r.requests.average;
  } finally {
    child.kill();
  }
}

/**
 * PostgreSQL's own write rate here, right now: one-row UPDATE transactions (BEGIN, UPDATE, COMMIT, each
 * commit flushed to the WAL as the service's are), from CONNECTIONS callers through a pool of the
 * service's size (20), each on rows of its own. Refresh and submit are writes of this kind and more; as
 * ratios to this limit they say how much of the database's write rate the service turns into requests.
 */
async function measurePgWriteLimit(url: string): Promise<number> {
  const pool = new Pool({ connectionString: url, max: 20 });
  try {
    await pool.query(`CREATE TABLE IF NOT EXISTS bench_write_limit (id int PRIMARY KEY, n bigint NOT NULL)`);
    await pool.query(
      `INSERT INTO bench_write_limit SELECT g, 0 FROM generate_series(1, $1) g ON CONFLICT (id) DO NOTHING`,
      [CONNECTIONS * 100],
    );
    const round = async (seconds: number): Promise<number> => {
      const deadline = Date.now() + seconds * 1000;
      let done = 0;
      const caller = async (k: number) => {
        for (let i = 0; Date.now() < deadline; i++) {
          const client = await pool.connect();
          try {
            await client.query('BEGIN');
            await client.query('UPDATE bench_write_limit SET n = n + 1 WHERE id = $1', [k * 100 + (i % 100) + 1]);
            await client.query('COMMIT');
            done++;
          } finally {
            client.release();
          }
        }
      };
      const t0 = Date.now();
      await Promise.all(Array.from({ length: CONNECTIONS }, (_, k) => caller(k)));
      return done / ((Date.now() - t0) / 1000);
    };
    await round(WARMUP);
    return await round(DURATION);
  } finally {
    await pool.end();
  }
}

/** argon2id verifications per second with every core busy, at the configured cost (19 MiB, t=2). */
async function measureArgon2(seconds: number): Promise<number> {
  const hash = await argon2.hash(USER_PASSWORD, ARGON2);
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  const worker = async () => {
    while (Date.now() < deadline) {
      await argon2.verify(hash, USER_PASSWORD);
      done++;
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: Math.max(4, cpus().length * 2) }, worker));
  return done / ((Date.now() - t0) / 1000);
}

/**
 * CPU seconds the process has used (user and system, every thread), from /proc: a cost per request that
 * moves much less than req/s when other tenants of the machine take the cores.
 */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of proc(5), utime and stime, in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Runs a load and says what it cost the service: microseconds of CPU per request served. */
async function withCpu<T>(
  pid: number,
  run: () => Promise<T>,
  served: (value: T) => number,
): Promise<{ value: T; cpuUs: number }> {
  const before = cpuSeconds(pid);
  const value = await run();
  const n = served(value);
  return { value, cpuUs: n > 0 ? ((cpuSeconds(pid) - before) * 1e6) / n : NaN };
}

function memoryMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/**
 * Users `from + 1` to `to` (all with the same argon2 hash), and two tokens per user: refresh tokens (with
 * their login sessions), API keys, key:token pairs and IAM tokens, half a user's worth of each. Plain
 * SQL with generate_series: a million users and two million tokens take minutes, not hours.
 */
async function seedPopulation(db: Client, from: number, to: number, userHash: string): Promise<void> {
  const t0 = Date.now();
  const step = 200_000;
  for (let a = from + 1; a <= to; a += step) {
    const b = Math.min(to, a + step - 1);
    await db.query(
      `INSERT INTO users (email, password_hash, role, email_verified)
       SELECT 'user' || g || '@bench.example.org', $1, 'researcher', true FROM generate_series($2::int, $3::int) g`,
      [userHash, a, b],
    );
    // Each kind of token for every other user of this slice: two tokens per user in all.
    const users = `SELECT u.id, g FROM generate_series($1::int, $2::int) g
                     JOIN users u ON u.email = 'user' || g || '@bench.example.org'`;
    await db.query(
      `WITH u AS (${users}), s AS (
         INSERT INTO login_sessions (user_id, method, expires_at)
         SELECT id, 'password', now() + interval '30 days' FROM u WHERE g % 2 = 0 RETURNING id
       )
       INSERT INTO refresh_tokens (session_id, token_hash, expires_at)
       SELECT id, encode(sha256(('seed-refresh-' || id)::bytea), 'hex'), now() + interval '30 days' FROM s`,
      [a, b],
    );
    await db.query(
      `WITH u AS (${users})
       INSERT INTO api_keys (user_id, name, prefix, key_hash)
       SELECT id, 'seed', 'pk_seed', encode(sha256(('seed-api-key-' || id)::bytea), 'hex') FROM u WHERE g % 2 = 1`,
      [a, b],
    );
    await db.query(
      `WITH u AS (${users})
       INSERT INTO key_tokens (user_id, client_id, family_id, key, token_hash, refresh_hash, expires_at)
       SELECT id, 'web', gen_random_uuid(), 'kt_seed_' || id, encode(sha256(('seed-token-' || id)::bytea), 'hex'),
              encode(sha256(('seed-kt-refresh-' || id)::bytea), 'hex'), now() + interval '30 days'
         FROM u WHERE g % 2 = 0`,
      [a, b],
    );
    await db.query(
      `WITH u AS (${users})
       INSERT INTO iam_tokens (user_id, key_hash, prefix, permanent)
       SELECT id, encode(sha256(('seed-iam-' || id)::bytea), 'hex'), 'tk_seed', true FROM u WHERE g % 2 = 1`,
      [a, b],
    );
  }
  await db.query('ANALYZE');
  if (to > from)
    console.log(`seeded users ${from + 1} to ${to} and ${2 * (to - from)} tokens in ${Date.now() - t0} ms`);
}

/** The plan of each lookup that a request makes, as the service writes it: each must use an index. */
async function explainHotLookups(db: Client, userCount: number): Promise<Record<string, string>> {
  const email = `user${Math.max(1, Math.floor(userCount / 2))}@bench.example.org`;
  const h = hashSecret('absent');
  const lookups: Record<string, [string, unknown[]]> = {
    'login (users by email or username)': [
      `SELECT * FROM users u WHERE u.email = $1 OR lower(u.username) = $1 ORDER BY (u.email = $1) DESC LIMIT 1`,
      [email],
    ],
    'refresh (refresh_tokens by hash)': [
      `SELECT r.id FROM refresh_tokens r JOIN login_sessions s ON s.id = r.session_id
        WHERE r.token_hash = $1 AND r.rotated_at IS NULL AND r.expires_at > now() AND s.revoked_at IS NULL`,
      [h],
    ],
    'submit (assessment_sessions by hash)': [`SELECT id FROM assessment_sessions WHERE key_hash = $1`, [h]],
    'api-key (api_keys by hash)': [
      `SELECT k.id FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
      [h],
    ],
    'basic (key_tokens by key)': [
      `SELECT kt.id FROM key_tokens kt JOIN users u ON u.id = kt.user_id WHERE kt.key = $1 AND kt.revoked_at IS NULL`,
      ['kt_absent'],
    ],
    'token (iam_tokens by hash)': [
      `SELECT t.id FROM iam_tokens t JOIN users u ON u.id = t.user_id WHERE t.key_hash = $1`,
      [h],
    ],
    'user cache miss (users by id)': [`SELECT * FROM users WHERE id = $1`, [randomUUID()]],
    'revocation poll (login_sessions revoked since)': [
      `SELECT id FROM login_sessions WHERE revoked_at IS NOT NULL AND revoked_at > $1 AND expires_at > now()`,
      [new Date(Date.now() - 5000)],
    ],
  };
  const plans: Record<string, string> = {};
  for (const [name, [sql, params]] of Object.entries(lookups)) {
    const { rows } = await db.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) ${sql}`, params);
    const lines = rows.map((r: Record<string, string>) => r['QUERY PLAN']);
    const scans = lines.filter((l) => /Scan/.test(l)).map((l) => l.trim().replace(/^->\s*/, ''));
    const time = lines.find((l) => l.startsWith('Execution Time')) ?? '';
    plans[name] = `${scans.join('; ')} (${time.toLowerCase()})`;
    if (scans.some((s) => /^Seq Scan/.test(s))) plans[name] = `SEQUENTIAL SCAN: ${plans[name]}`;
  }
  return plans;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'identity-bench-'));
  console.log(
    `bench: ${QUICK ? 'quick' : 'full'} run, ${DURATION}s per scenario, ${CONNECTIONS} connections, ` +
      `${SIZES.map((n) => n.toLocaleString('en')).join(' then ')} users, ${cpus().length} cores, ` +
      `${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  );
  const pg = await startEmbeddedPostgres({ dir: dataDir, database: 'identity' });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let service: ChildProcess | undefined;
  let scraper: NodeJS.Timeout | undefined;
  // Known to the bench so that it can seal the TOTP seeds of the mfa-verify scenario as the service does.
  const jwtSecret = randomBytes(48).toString('base64');
  const tables: Table[] = [];
  try {
    // The service as production runs it (npm run start:prod, the Docker image): JSON logs on stdout.
    const metricsPort = METRICS ? await freePort() : undefined;
    service = startService(port, pg.url, dataDir, jwtSecret, metricsPort ? { METRICS_PORT: String(metricsPort) } : {});
    if (metricsPort) scraper = scrapeEverySecond(metricsPort);
    const pid = service.pid!;
    await waitFor(`${base}/api/health`);

    // ---- the population and one credential of each kind ----------------------------------------
    const db = new Client({ connectionString: pg.url });
    await db.connect();
    // A failure below stops PostgreSQL in `finally`: the client's disconnection must not hide that failure.
    db.on('error', () => undefined);
    const userHash = await argon2.hash(USER_PASSWORD, ARGON2);
    await seedPopulation(db, 0, SIZES[0], userHash);
    const login = await post(`${base}/api/auth/login`, {
      username: 'user1@bench.example.org',
      password: USER_PASSWORD,
    });
    const jwt = login.access_token as string;
    const pair = await post(`${base}/users/token`, {
      client: 'web',
      email: 'user1@bench.example.org',
      password: USER_PASSWORD,
    });
    const iam = await post(`${base}/v1/auth/token/`, { username: 'user1@bench.example.org', password: USER_PASSWORD });
    const apiKey = await post(`${base}/api/api-keys`, { name: 'bench' }, { Authorization: `Bearer ${jwt}` });
    const [{ id: userId }] = (await db.query(`SELECT id FROM users WHERE email = 'user1@bench.example.org'`)).rows;
    // An OAuth client of a pipeline (API.md 15), registered as the admin route does (its secret hashed).
    const oauthSecret = newSecret();
    await db.query(
      `INSERT INTO oauth_clients (client_id, name, type, secret_hash, grant_types, scopes)
       VALUES ('bench-pipeline', 'Bench pipeline', 'confidential', $1, '["client_credentials"]', '["api:read"]')`,
      [hashSecret(oauthSecret)],
    );
    const oauthBasic = `Basic ${Buffer.from(`bench-pipeline:${oauthSecret}`).toString('base64')}`;
    const issued = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { authorization: oauthBasic, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=api%3Aread',
    });
    if (issued.status !== 200) throw new Error(`client credentials: ${issued.status} ${await issued.text()}`);
    const oauth = { basic: oauthBasic, token: ((await issued.json()) as { access_token: string }).access_token };

    let seeded = SIZES[0];
    for (const size of SIZES) {
      await seedPopulation(db, seeded, size, userHash);
      seeded = size;

      // Refresh tokens and assessment sessions: one per request, seeded with SQL (their hashes).
      const perScenario = Math.ceil((DURATION + WARMUP) * 4000);
      const refreshTokens: string[] = [];
      const sessionIds: string[] = [];
      for (let chunk = 0; chunk < perScenario; chunk += 5000) {
        const n = Math.min(5000, perScenario - chunk);
        const sids = Array.from({ length: n }, () => randomUUID());
        const tokens = Array.from({ length: n }, () => newSecret());
        const sessions = Array.from({ length: n }, () => `sess_${newSecret()}`);
        refreshTokens.push(...tokens);
        sessionIds.push(...sessions);
        await db.query(
          `INSERT INTO login_sessions (id, user_id, method, expires_at)
           SELECT unnest($1::uuid[]), $2, 'password', now() + interval '30 days'`,
          [sids, userId],
        );
        await db.query(
          `INSERT INTO refresh_tokens (session_id, token_hash, expires_at)
           SELECT unnest($1::uuid[]), unnest($2::text[]), now() + interval '30 days'`,
          [sids, tokens.map(hashSecret)],
        );
        await db.query(
          `INSERT INTO assessment_sessions (key_hash, participant_id, battery_id, expires_at)
           SELECT unnest($1::text[]), 'P', 'B', now() + interval '4 hours'`,
          [sessions.map(hashSecret)],
        );
      }
      const mfa = await seedMfaChallenges(db, jwtSecret, Math.ceil((DURATION + WARMUP) * 1500));
      await db.query('ANALYZE');
      const plans = await explainHotLookups(db, size);
      tables.push(
        await measureTable(
          base,
          pg.url,
          pid,
          db,
          size,
          { jwt, pair, iam, apiKey, refreshTokens, sessionIds, mfa, oauth },
          plans,
        ),
      );
    }
    await db.end();
    // The jwt scenario once more for each other algorithm, on a service of its own.
    for (const alg of ALGORITHMS.filter((a) => a !== 'HS256')) {
      const row = await measureJwtWith(alg, pg.url, dataDir, jwtSecret, userHash);
      const first = tables[0];
      const limit = first.rows.find((r) => r.scenario === 'limit')!.rps;
      row.ratio = Number((row.rps / limit).toFixed(2));
      first.rows.splice(first.rows.findIndex((r) => r.scenario === 'jwt') + 1, 0, row);
    }
  } finally {
    if (scraper) clearInterval(scraper);
    service?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    await pg.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  for (const t of tables) printTable(t);
  if (tables.length === 2) printScaleComparison(tables[0], tables[1]);
  writeFileSync(
    join(__dirname, 'results.json'),
    JSON.stringify(
      {
        at: new Date().toISOString(),
        quick: QUICK,
        durationSec: DURATION,
        connections: CONNECTIONS,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        node: process.version,
        metrics: METRICS,
        tables,
      },
      null,
      2,
    ) + '\n',
  );
}

/** A scrape of /metrics every second for the whole run (Prometheus does it every 15 s or so). */
function scrapeEverySecond(port: number): NodeJS.Timeout {
  return setInterval(() => {
    void fetch(`http://127.0.0.1:${port}/metrics`)
      .then((r) => r.text())
      .catch(() => undefined);
  }, 1000);
}

/** The service as production runs it (npm run start:prod, the Docker image): JSON logs on stdout. */
function startService(
  port: number,
  databaseUrl: string,
  dataDir: string,
  jwtSecret: string,
  extra: Record<string, string> = {},
): ChildProcess {
  return spawn(process.execPath, ['--max-semi-space-size=8', join(ROOT, 'dist', 'main.js')], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      DATA_DIR: dataDir,
      JWT_SECRET: jwtSecret,
      ADMIN_EMAIL,
      ADMIN_PASSWORD,
      LOG_LEVEL: 'info',
      ...RATE_LIMITS_OFF,
      ...extra,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/**
 * The jwt scenario with JWT_ALGORITHM=`alg`: a second service on a database of its own (the first one
 * keeps running, idle), one user, one token signed with the current key. Verified tokens are cached by
 * the token, so this measures what the algorithm changes on the hot path (the kid lookup happens only
 * on a cache miss).
 */
async function measureJwtWith(
  alg: string,
  pgUrl: string,
  dataDir: string,
  jwtSecret: string,
  userHash: string,
): Promise<Row> {
  const database = `identity_${alg.toLowerCase()}`;
  const admin = new Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const url = new URL(pgUrl);
  url.pathname = `/${database}`;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = startService(port, url.toString(), dataDir, jwtSecret, { JWT_ALGORITHM: alg });
  try {
    await waitFor(`${base}/api/health`);
    const db = new Client({ connectionString: url.toString() });
    await db.connect();
    await seedPopulation(db, 0, 1, userHash);
    await db.end();
    const login = await post(`${base}/api/auth/login`, {
      username: 'user1@bench.example.org',
      password: USER_PASSWORD,
    });
    const token = login.access_token as string;
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { alg: string };
    if (header.alg !== alg) throw new Error(`the ${alg} service signed with ${header.alg}`);
    const opts: autocannon.Options = { url: `${base}/api/auth/me`, headers: { authorization: `Bearer ${token}` } };
    await once({ ...opts, duration: WARMUP });
    const { value: res, cpuUs } = await withCpu(
      child.pid!,
      () => once(opts),
      (r) => r.requests.total,
    );
    return {
      scenario: `jwt-${alg.toLowerCase()}`,
      rps: Math.round(res.requests.average),
      p50: res.latency.p50,
      p99: res.latency.p99,
      mean: res.latency.average,
      errors: errorsOf(res),
      ratio: null,
      of: 'limit',
      rssMb: memoryMb(child.pid!, 'VmRSS'),
      cpuUs: Math.round(cpuUs),
      note: `JWT_ALGORITHM=${alg}, a service of its own`,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
  }
}

interface Credentials {
  jwt: string;
  pair: { key: string; token: string };
  iam: { token: { key: string } };
  apiKey: { key: string };
  refreshTokens: string[];
  sessionIds: string[];
  mfa: MfaChallengeSeed[];
  /** The OAuth pipeline client's Basic header and one of its JWT access tokens. */
  oauth: { basic: string; token: string };
}

interface MfaChallengeSeed {
  mfaToken: string;
  factorId: string;
  seed: Buffer;
}

/**
 * Pending second steps for the mfa-verify scenario, one per request: each its own user with a confirmed
 * TOTP factor (the seed sealed as the service seals it) and an mfa_token, so that every verification is a
 * first use of its time step, as it is for real users.
 */
async function seedMfaChallenges(db: Client, jwtSecret: string, count: number): Promise<MfaChallengeSeed[]> {
  const box = new SecretBox(Buffer.from(jwtSecret, 'utf8'), 'totp seed');
  const out: MfaChallengeSeed[] = [];
  const tag = randomBytes(4).toString('hex');
  const [{ hash }] = (await db.query(`SELECT password_hash AS hash FROM users WHERE email = 'user1@bench.example.org'`))
    .rows as { hash: string }[];
  for (let chunk = 0; chunk < count; chunk += 2000) {
    const n = Math.min(2000, count - chunk);
    const users = (
      await db.query(
        `INSERT INTO users (email, password_hash, role, mfa_enabled)
         SELECT 'mfa' || g || '-' || $2 || '@bench.example.org', $1, 'viewer', true FROM generate_series(1, $3) g
         RETURNING id`,
        [hash, `${tag}-${chunk}`, n],
      )
    ).rows as { id: string }[];
    const factors = (
      await db.query(
        `INSERT INTO mfa_factors (user_id, type, name, confirmed_at)
         SELECT unnest($1::uuid[]), 'totp', 'bench', now() RETURNING id, user_id`,
        [users.map((u) => u.id)],
      )
    ).rows as { id: string; user_id: string }[];
    const seeds = factors.map(() => newTotpSeed());
    const tokens = factors.map(() => newSecret());
    await db.query(
      `UPDATE mfa_factors f SET secret_enc = v.enc FROM (SELECT unnest($1::uuid[]) AS id, unnest($2::bytea[]) AS enc) v
        WHERE f.id = v.id`,
      [factors.map((f) => f.id), factors.map((f, i) => box.seal(seeds[i], f.id))],
    );
    // Since the House migration: what the first factor proved in mfa_challenges, where the sign-in
    // began in pending_sign_ins (one row per challenge).
    await db.query(
      `WITH c AS (
         INSERT INTO mfa_challenges (user_id, token_hash, first_amr, expires_at)
         SELECT unnest($1::uuid[]), unnest($2::char(64)[]), '{pwd}', now() + interval '1 hour'
         RETURNING id)
       INSERT INTO pending_sign_ins (challenge_id, surface, method, remember, set_cookie)
       SELECT id, 'portal', 'password', false, false FROM c`,
      [factors.map((f) => f.user_id), tokens.map(hashSecret)],
    );
    factors.forEach((f, i) => out.push({ mfaToken: tokens[i], factorId: f.id, seed: seeds[i] }));
  }
  return out;
}

/** PostgreSQL's WAL counters: records, full-page images and bytes written since the cluster started. */
async function walCounters(db: Client): Promise<{ records: number; fpi: number; bytes: number }> {
  const { rows } = await db.query(`SELECT wal_records, wal_fpi, wal_bytes FROM pg_stat_wal`);
  return { records: Number(rows[0].wal_records), fpi: Number(rows[0].wal_fpi), bytes: Number(rows[0].wal_bytes) };
}

async function measureTable(
  base: string,
  pgUrl: string,
  pid: number,
  db: Client,
  users: number,
  c: Credentials,
  plans: Record<string, string>,
): Promise<Table> {
  const rows: Row[] = [];
  const results: Record<string, autocannon.Result> = {};
  const rss: Record<string, number> = {};
  const wal: Record<string, string> = {};
  const cpu: Record<string, number> = {};
  const measure = async (name: string, opts: autocannon.Options) => {
    const before = await walCounters(db);
    await once({ ...opts, duration: WARMUP });
    const run = await withCpu(
      pid,
      () => once(opts),
      (r) => r.requests.total,
    );
    results[name] = run.value;
    cpu[name] = run.cpuUs;
    rss[name] = memoryMb(pid, 'VmRSS');
    const after = await walCounters(db);
    // Writes at scale touch more distinct index pages, and the first change of a page after a checkpoint
    // writes the whole page to the WAL: the per-request WAL shows whether that is where time goes.
    const n = results[name].requests.total + results[name].non2xx;
    if (after.records > before.records + n / 2) {
      wal[name] =
        `WAL ${((after.bytes - before.bytes) / 1024 / Math.max(1, n)).toFixed(1)} KiB and ` +
        `${((after.fpi - before.fpi) / Math.max(1, n)).toFixed(2)} full pages per request`;
    }
  };

  const limitBefore = await measureLimit();
  const pgWriteBefore = await measurePgWriteLimit(pgUrl);
  await measure('baseline', { url: `${base}/api/health` });
  await measure('jwt', { url: `${base}/api/auth/me`, headers: { authorization: `Bearer ${c.jwt}` } });
  await measure('basic', {
    url: `${base}/users`,
    headers: { authorization: `Basic ${Buffer.from(`${c.pair.key}:${c.pair.token}`).toString('base64')}` },
  });
  await measure('token', { url: `${base}/v1/whoami/`, headers: { authorization: `Token ${c.iam.token.key}` } });
  await measure('api-key', { url: `${base}/api/auth/me`, headers: { 'x-api-key': c.apiKey.key } });

  let r = 0;
  await measure('refresh', {
    url: `${base}/api/auth/refresh`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          body: JSON.stringify({ refresh_token: c.refreshTokens[r++ % c.refreshTokens.length] }),
        }),
      },
    ],
  });
  // About 10 KB of assessment results, each body to its own session.
  const trials = Array.from({ length: 80 }, (_, i) => ({
    i,
    rt: 300 + i,
    correct: i % 3 !== 0,
    stimulus: 'congruent-red-left',
  }));
  let s = 0;
  await measure('submit', {
    url: `${base}/api/submit`,
    method: 'POST',
    requests: [
      {
        setupRequest: (req) => {
          const id = c.sessionIds[s++ % c.sessionIds.length];
          return {
            ...req,
            headers: { ...req.headers, 'content-type': 'application/json', 'x-session-id': id },
            body: JSON.stringify({ session_id: id, task_summaries: { stroop: { accuracy: 0.9 } }, trials }),
          };
        },
      },
    ],
  });

  // The OAuth provider (API.md 15): a client-credentials grant (an ES256 JWT signed, its record and an
  // audit event written) and an introspection of a JWT access token (its signature and its record read).
  const oauthForm = { authorization: c.oauth.basic, 'content-type': 'application/x-www-form-urlencoded' };
  await measure('oauth-cc', {
    url: `${base}/oauth/token`,
    method: 'POST',
    headers: oauthForm,
    body: 'grant_type=client_credentials&scope=api%3Aread',
  });
  await measure('introspect', {
    url: `${base}/oauth/token/introspection`,
    method: 'POST',
    headers: oauthForm,
    body: `token=${c.oauth.token}`,
  });

  const pgWriteAfter = await measurePgWriteLimit(pgUrl);
  const pgWrite = (pgWriteBefore + pgWriteAfter) / 2;

  // The second step of a sign-in with an authenticator app: a TOTP check, the challenge used up, a session.
  let v = 0;
  await measure('mfa-verify', {
    url: `${base}/api/auth/mfa/verify`,
    method: 'POST',
    requests: [
      {
        setupRequest: (req) => {
          const m = c.mfa[v++ % c.mfa.length];
          return {
            ...req,
            headers: { ...req.headers, 'content-type': 'application/json' },
            body: JSON.stringify({
              mfa_token: m.mfaToken,
              factor_id: m.factorId,
              code: totpOf(m.seed, 'bench', 'bench').generate(),
            }),
          };
        },
      },
    ],
  });

  // Login saturates hashing; meanwhile one connection measures the health route's latency (loop lag).
  // Each login is a different user, drawn from the whole population.
  const argonLimit = await measureArgon2(QUICK ? 2 : 5);
  const loginOpts: autocannon.Options = {
    url: `${base}/api/auth/login`,
    method: 'POST',
    connections: 16,
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          headers: { ...req.headers, 'content-type': 'application/json' },
          body: JSON.stringify({
            username: `user${1 + Math.floor(Math.random() * users)}@bench.example.org`,
            password: USER_PASSWORD,
          }),
        }),
      },
    ],
  };
  await once({ ...loginOpts, duration: WARMUP });
  const loginRun = await withCpu(
    pid,
    () =>
      Promise.all([
        once(loginOpts),
        // A probe, not a load: 100 requests a second, so that it measures the loop without taking its CPU.
        once({ url: `${base}/api/health`, connections: 1, overallRate: 100 }),
      ]),
    ([login]) => login.requests.total,
  );
  const [loginResult, lag] = loginRun.value;
  // Login's CPU includes argon2 on libuv's threads (and the probe's hundred health requests a second).
  cpu.login = loginRun.cpuUs;
  rss.login = memoryMb(pid, 'VmRSS');
  const limitAfter = await measureLimit();
  const limit = (limitBefore + limitAfter) / 2;

  const add = (scenario: string, res: autocannon.Result, ratioOf: number | null, of: string, note?: string) =>
    rows.push({
      scenario,
      rps: Math.round(res.requests.average),
      p50: res.latency.p50,
      p99: res.latency.p99,
      mean: res.latency.average,
      errors: errorsOf(res),
      ratio: ratioOf ? Number((res.requests.average / ratioOf).toFixed(2)) : null,
      of,
      rssMb: rss[scenario],
      cpuUs: cpu[scenario] === undefined ? undefined : Math.round(cpu[scenario]),
      note,
    });
  rows.push({
    scenario: 'limit',
    rps: Math.round(limit),
    p50: 0,
    p99: 0,
    mean: 0,
    errors: 0,
    ratio: 1,
    of: 'limit',
    note: `node:http; before ${Math.round(limitBefore)}, after ${Math.round(limitAfter)}`,
  });
  rows.push({
    scenario: 'pg-write',
    rps: Math.round(pgWrite),
    p50: 0,
    p99: 0,
    mean: 0,
    errors: 0,
    ratio: null,
    of: '',
    note: `one-row UPDATE transactions through a pool of 20; before ${Math.round(pgWriteBefore)}, after ${Math.round(pgWriteAfter)}`,
  });
  for (const name of ['baseline', 'jwt', 'basic', 'token', 'api-key', 'refresh', 'submit', 'mfa-verify']) {
    if (name !== 'refresh' && name !== 'submit') {
      add(name, results[name], limit, 'limit', wal[name]);
      continue;
    }
    // The two writes against the database's own write rate; their ratio to node:http stays in the note.
    const ofLimit = `${(results[name].requests.average / limit).toFixed(2)} of limit`;
    add(name, results[name], pgWrite, 'pg-write', [ofLimit, wal[name]].filter(Boolean).join('; '));
  }
  // Keycloak publishes 120 client-credentials grants a second per vCPU (its sizing guide): the same
  // figure for this machine's cores stands beside ours.
  const keycloak = 120 * cpus().length;
  add(
    'oauth-cc',
    results['oauth-cc'],
    pgWrite,
    'pg-write',
    `${(results['oauth-cc'].requests.average / limit).toFixed(2)} of limit; Keycloak's published 120/vCPU is ${keycloak} here: ` +
      `${(results['oauth-cc'].requests.average / keycloak).toFixed(1)}x`,
  );
  add('introspect', results['introspect'], limit, 'limit');
  add('login', loginResult, argonLimit, 'argon2', `argon2 limit ${Math.round(argonLimit)}/s`);
  rows.push({
    scenario: 'loop-lag',
    rps: Math.round(lag.requests.average),
    p50: lag.latency.p50,
    p99: lag.latency.p99,
    mean: lag.latency.average,
    errors: errorsOf(lag),
    ratio: null,
    of: '',
    note: 'GET /api/health, 100 a second, during login',
  });
  return { users, tokens: users * 2, rows, plans, peakRssMb: memoryMb(pid, 'VmHWM') };
}

function printTable(t: Table): void {
  console.log('');
  console.log(`${t.users.toLocaleString('en')} users, ${t.tokens.toLocaleString('en')} seeded tokens`);
  console.log('scenario     req/s   p50 ms  p99 ms  mean ms  errors  RSS MB  CPU µs  ratio');
  for (const row of t.rows) {
    const ratio = row.ratio === null ? '' : `${row.ratio.toFixed(2)} of ${row.of}`;
    console.log(
      `${row.scenario.padEnd(10)} ${String(row.rps).padStart(7)} ${String(row.p50).padStart(8)} ${String(row.p99).padStart(7)} ` +
        `${row.mean.toFixed(2).padStart(8)} ` +
        `${String(row.errors).padStart(7)} ${String(row.rssMb ?? '').padStart(7)} ${String(row.cpuUs ?? '').padStart(7)}  ` +
        `${ratio}${row.note ? `  (${row.note})` : ''}`,
    );
  }
  console.log(`peak RSS of the service so far: ${t.peakRssMb} MB`);
  console.log('plans of the hot lookups:');
  for (const [name, plan] of Object.entries(t.plans)) console.log(`  ${name}: ${plan}`);
}

function printScaleComparison(small: Table, large: Table): void {
  console.log('');
  console.log(`p50 at ${large.users.toLocaleString('en')} users against ${small.users.toLocaleString('en')}:`);
  for (const row of large.rows) {
    const before = small.rows.find((r) => r.scenario === row.scenario);
    if (!before || row.scenario === 'limit') continue;
    const pct = (a: number, b: number) => (a > 0 ? `${(((b - a) / a) * 100).toFixed(0)}%` : 'n/a');
    console.log(
      `  ${row.scenario.padEnd(10)} p50 ${before.p50} -> ${row.p50} ms (${pct(before.p50, row.p50)}), ` +
        `mean ${before.mean.toFixed(2)} -> ${row.mean.toFixed(2)} ms (${pct(before.mean, row.mean)})`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
