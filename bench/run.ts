/* eslint-disable no-console -- a benchmark reports to its terminal */
/**
 * npm run bench [-- --quick] [-- --users N]
 *
 * Starts the production build on a fresh embedded PostgreSQL with the rate limits off, seeds what each
 * scenario needs, drives it over loopback with autocannon and prints one table (also bench/results.json).
 * Every figure is also given as a ratio to a limit measured in the same run (a bare node:http server,
 * measured before and after; the argon2 verification rate for the login scenario), since these
 * machines are shared and noisy.
 */
import * as argon2 from 'argon2';
import autocannon from 'autocannon';
import { ChildProcess, fork, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, startEmbeddedPostgres } from '../src/database/embedded-postgres';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const USERS = Number(args[args.indexOf('--users') + 1]) || (QUICK ? 1000 : 1000);
const DURATION = QUICK ? 3 : 10;
const CONNECTIONS = 32;
const ROOT = join(__dirname, '..');
const ADMIN_EMAIL = 'bench-admin@example.org';
const ADMIN_PASSWORD = 'Quartz-Harbor-Meadow-91';
const USER_PASSWORD = 'Bench-User-Passw0rd';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const secret = () => randomBytes(32).toString('base64url');

interface Row {
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  ratio: number | null;
  of: string;
  note?: string;
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
async function run(opts: autocannon.Options, warm = true): Promise<autocannon.Result> {
  if (warm && !opts.requests) await once({ ...opts, duration: QUICK ? 1 : 2 });
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

/** argon2id verifications per second with every core busy, at the configured cost (19 MiB, t=2). */
async function measureArgon2(seconds: number): Promise<number> {
  const hash = await argon2.hash(USER_PASSWORD, {
    type: argon2.argon2id,
    memoryCost: 19456,
    timeCost: 2,
    parallelism: 1,
  });
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

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'identity-bench-'));
  console.log(
    `bench: ${QUICK ? 'quick' : 'full'} run, ${DURATION}s per scenario, ${CONNECTIONS} connections, ${USERS} users`,
  );
  const pg = await startEmbeddedPostgres({ dir: dataDir, database: 'identity' });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let service: ChildProcess | undefined;
  const rows: Row[] = [];
  try {
    service = spawn(process.execPath, [join(ROOT, 'dist', 'main.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: pg.url,
        DATA_DIR: dataDir,
        JWT_SECRET: randomBytes(48).toString('base64'),
        ADMIN_EMAIL,
        ADMIN_PASSWORD,
        LOG_LEVEL: 'info',
        RATE_LIMIT_LOGIN: 'off',
        RATE_LIMIT_LOGIN_IP: 'off',
        RATE_LIMIT_REGISTER: 'off',
        RATE_LIMIT_RESEND: 'off',
        RATE_LIMIT_MAGIC_LINK: 'off',
        RATE_LIMIT_DEFAULT: 'off',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitFor(`${base}/api/health`);

    // ---- seed ---------------------------------------------------------------------------------
    const db = new Client({ connectionString: pg.url });
    await db.connect();
    const userHash = await argon2.hash(USER_PASSWORD, {
      type: argon2.argon2id,
      memoryCost: 19456,
      timeCost: 2,
      parallelism: 1,
    });
    const t0 = Date.now();
    await db.query(
      `INSERT INTO users (email, password_hash, role, email_verified)
       SELECT 'user' || g || '@bench.example.org', $1, 'researcher', true FROM generate_series(1, $2) g`,
      [userHash, USERS],
    );
    console.log(`seeded ${USERS} users in ${Date.now() - t0} ms`);
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

    // Refresh tokens and assessment sessions: one per request, seeded with SQL (their hashes).
    const perScenario = Math.ceil(DURATION * 4000);
    const refreshTokens: string[] = [];
    const sessionIds: string[] = [];
    for (let chunk = 0; chunk < perScenario; chunk += 2000) {
      const n = Math.min(2000, perScenario - chunk);
      const sids = Array.from({ length: n }, () => randomUUID());
      const tokens = Array.from({ length: n }, () => secret());
      const sessions = Array.from({ length: n }, () => `sess_${secret()}`);
      refreshTokens.push(...tokens);
      sessionIds.push(...sessions);
      await db.query(
        `INSERT INTO login_sessions (id, user_id, method, expires_at) SELECT unnest($1::uuid[]), $2, 'password', now() + interval '30 days'`,
        [sids, userId],
      );
      await db.query(
        `INSERT INTO refresh_tokens (session_id, token_hash, expires_at) SELECT unnest($1::uuid[]), unnest($2::text[]), now() + interval '30 days'`,
        [sids, tokens.map(sha256)],
      );
      await db.query(
        `INSERT INTO assessment_sessions (key_hash, participant_id, battery_id, expires_at)
         SELECT unnest($1::text[]), 'P', 'B', now() + interval '4 hours'`,
        [sessions.map(sha256)],
      );
    }
    await db.end();

    // ---- scenarios ----------------------------------------------------------------------------
    const limitBefore = await measureLimit();
    const add = (scenario: string, r: autocannon.Result, ratioOf: number | null, of: string, note?: string) =>
      rows.push({
        scenario,
        rps: Math.round(r.requests.average),
        p50: r.latency.p50,
        p99: r.latency.p99,
        errors: errorsOf(r),
        ratio: ratioOf ? Number((r.requests.average / ratioOf).toFixed(2)) : null,
        of,
        note,
      });
    const results: Record<string, autocannon.Result> = {};
    results.baseline = await run({ url: `${base}/api/health` });
    results.jwt = await run({ url: `${base}/api/auth/me`, headers: { authorization: `Bearer ${jwt}` } });
    results.basic = await run({
      url: `${base}/users`,
      headers: { authorization: `Basic ${Buffer.from(`${pair.key}:${pair.token}`).toString('base64')}` },
    });
    results.token = await run({ url: `${base}/v1/whoami/`, headers: { authorization: `Token ${iam.token.key}` } });
    results['api-key'] = await run({ url: `${base}/api/auth/me`, headers: { 'x-api-key': apiKey.key } });

    let r = 0;
    results.refresh = await run({
      url: `${base}/api/auth/refresh`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      requests: [
        {
          setupRequest: (req) => ({
            ...req,
            body: JSON.stringify({ refresh_token: refreshTokens[r++ % refreshTokens.length] }),
          }),
        },
      ],
    });
    const trials = Array.from({ length: 80 }, (_, i) => ({
      i,
      rt: 300 + i,
      correct: i % 3 !== 0,
      stimulus: 'congruent-red-left',
    }));
    let s = 0;
    results.submit = await run({
      url: `${base}/api/submit`,
      method: 'POST',
      requests: [
        {
          setupRequest: (req) => {
            const id = sessionIds[s++ % sessionIds.length];
            return {
              ...req,
              headers: { ...req.headers, 'content-type': 'application/json', 'x-session-id': id },
              body: JSON.stringify({ session_id: id, task_summaries: { stroop: { accuracy: 0.9 } }, trials }),
            };
          },
        },
      ],
    });

    // Login saturates hashing; meanwhile one connection measures the health route's latency (loop lag).
    const argonLimit = await measureArgon2(QUICK ? 2 : 5);
    let u = 0;
    const [loginResult, lag] = await Promise.all([
      run({
        url: `${base}/api/auth/login`,
        method: 'POST',
        connections: 16,
        requests: [
          {
            setupRequest: (req) => ({
              ...req,
              headers: { ...req.headers, 'content-type': 'application/json' },
              body: JSON.stringify({ username: `user${(u++ % USERS) + 1}@bench.example.org`, password: USER_PASSWORD }),
            }),
          },
        ],
      }),
      run({ url: `${base}/api/health`, connections: 1 }, false),
    ]);
    const limitAfter = await measureLimit();
    const limit = (limitBefore + limitAfter) / 2;

    rows.push({
      scenario: 'limit',
      rps: Math.round(limit),
      p50: 0,
      p99: 0,
      errors: 0,
      ratio: 1,
      of: 'limit',
      note: `before ${Math.round(limitBefore)}, after ${Math.round(limitAfter)}`,
    });
    for (const name of ['baseline', 'jwt', 'basic', 'token', 'api-key', 'refresh', 'submit'])
      add(name, results[name], limit, 'limit');
    add('login', loginResult, argonLimit, 'argon2', `argon2 limit ${Math.round(argonLimit)}/s`);
    rows.push({
      scenario: 'loop-lag',
      rps: Math.round(lag.requests.average),
      p50: lag.latency.p50,
      p99: lag.latency.p99,
      errors: errorsOf(lag),
      ratio: null,
      of: '',
      note: 'GET /api/health during login',
    });

    const rss = peakRssMb(service.pid!);
    console.log('');
    console.log('scenario   req/s    p50 ms  p99 ms  errors  ratio');
    for (const row of rows) {
      const ratio = row.ratio === null ? '' : `${row.ratio.toFixed(2)} of ${row.of}`;
      console.log(
        `${row.scenario.padEnd(10)} ${String(row.rps).padStart(6)} ${String(row.p50).padStart(8)} ${String(row.p99).padStart(7)} ${String(row.errors).padStart(7)}  ${ratio}${row.note ? `  (${row.note})` : ''}`,
      );
    }
    console.log(`peak RSS of the service: ${rss} MB`);
    writeFileSync(
      join(__dirname, 'results.json'),
      JSON.stringify(
        {
          at: new Date().toISOString(),
          quick: QUICK,
          users: USERS,
          durationSec: DURATION,
          connections: CONNECTIONS,
          cpus: cpus().length,
          peakRssMb: rss,
          rows,
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    service?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    await pg.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
