import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reachableDataDir } from '../../src/database/embedded-postgres';
import { PAGE_CSP } from '../../src/pages/pages';
import { Client } from 'pg';
import { freePort, jsonLines, spawnService, waitForHealth } from '../support/process';

const PRODUCTION_SECRET = 'q8Zr1vT3kLm9PwX2bN7cY4hJ6fD0sA5gE-process-e2e';

/**
 * The service as a newcomer meets it: `node dist/main.js` with nothing configured starts its own
 * PostgreSQL in DATA_DIR, creates the first admin, answers, stops cleanly on SIGTERM and finds its data
 * again on the next start.
 */
describe('the service process with an embedded database', () => {
  // Made private (mode 700) on purpose: the postgres system user cannot enter it, as in a CI clone
  // under root's home, so the launcher has to fall back to the temp dir.
  const home = mkdtempSync(join(tmpdir(), 'identity-home-'));
  const dataDir = join(home, 'data');
  const env = { DATA_DIR: dataDir, NODE_ENV: 'development', LOG_LEVEL: 'info' };

  /** What a clean run must not say: no failure, and none of Nest's start-up detail at info. */
  const expectQuietAndClean = (output: string) => {
    const lines = jsonLines(output);
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    expect(output).not.toContain('Mapped {');
    expect(lines.filter((l) => ['RoutesResolver', 'InstanceLoader'].includes(l.context ?? ''))).toEqual([]);
    expect(output).not.toContain('terminating connection');
  };

  // Where the cluster goes, known before the directory is removed (afterwards it would be decided anew).
  const clusterDir = reachableDataDir(dataDir);

  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(clusterDir, { recursive: true, force: true });
  });

  it('starts on a fresh machine, answers, and stops cleanly on SIGTERM', async () => {
    expect(statSync(home).mode & 0o777).toBe(0o700);
    const svc = spawnService(env, await freePort());
    try {
      const ms = await waitForHealth(svc);
      expect(ms).toBeLessThan(60_000);
      expect(svc.output()).toContain('applied migrations: Foundation');
      // The generated password is in a file for the service's user alone; the console says where.
      const file = join(dataDir, 'initial-admin-password');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const password = readFileSync(file, 'utf8').trim();
      expect(password.length).toBeGreaterThanOrEqual(24);
      expect(svc.output()).toContain(`Its generated password is in ${file}`);
      const login = await fetch(`${svc.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'admin@example.com', password }),
      });
      expect(login.status).toBe(200);
      expect(((await login.json()) as { user: { role: string } }).user.role).toBe('admin');
      expect(svc.output()).not.toContain(password);
      // The account page (API.md 9), built into dist/web, is served by the built service too.
      const page = await fetch(`${svc.url}/account`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toBe(PAGE_CSP);
      expect(await page.text()).toContain('/assets/account.js');
      expect((await fetch(`${svc.url}/assets/account.js`)).status).toBe(200);
      const pgDir = join(reachableDataDir(dataDir), 'pg');
      expect(existsSync(join(pgDir, 'postmaster.pid'))).toBe(true);
      svc.child.kill('SIGTERM');
      expect(await svc.exited).toBe(0);
      expect(existsSync(join(pgDir, 'postmaster.pid'))).toBe(false);
      expectQuietAndClean(svc.output());
      // Each line carries the time of its event, not of a flush at the end of start-up: initdb and the
      // first start of PostgreSQL lie between these two.
      const lines = jsonLines(svc.output());
      const at = (text: string) => lines.find((l) => l.msg?.includes(text))!.time;
      expect(at('embedded PostgreSQL listening') - at('initialising an embedded PostgreSQL')).toBeGreaterThan(200);
      expect(lines.map((l) => l.time)).toEqual([...lines.map((l) => l.time)].sort((a, b) => a - b));
    } finally {
      svc.child.kill('SIGKILL');
    }
  }, 120_000); // a first start runs initdb, which a machine busy with the other suites slows down

  it('reuses its data on the second start (no new admin, same JWT key)', async () => {
    const secret = readFileSync(join(dataDir, 'jwt-secret'), 'utf8');
    const svc = spawnService(env, await freePort());
    try {
      await waitForHealth(svc);
      expect(svc.output()).not.toContain('First admin created');
      expect(svc.output()).not.toContain(readFileSync(join(dataDir, 'initial-admin-password'), 'utf8').trim());
      expect(svc.output()).not.toContain('applied migrations');
      expect(readFileSync(join(dataDir, 'jwt-secret'), 'utf8')).toBe(secret);
      svc.child.kill('SIGINT');
      expect(await svc.exited).toBe(0);
      expectQuietAndClean(svc.output());
    } finally {
      svc.child.kill('SIGKILL');
    }
  });

  it('stops cleanly on a Ctrl-C, which reaches its PostgreSQL at the same moment', async () => {
    const svc = spawnService(env, await freePort(), { processGroup: true });
    try {
      await waitForHealth(svc);
      process.kill(-svc.child.pid!, 'SIGINT');
      expect(await svc.exited).toBe(0);
      expect(svc.output()).toContain('embedded PostgreSQL stopped');
      expectQuietAndClean(svc.output());
    } finally {
      svc.child.kill('SIGKILL');
    }
  });

  it('finishes the requests in flight on SIGTERM, refuses new connections, and exits 0', async () => {
    const svc = spawnService({ ...env, RATE_LIMIT_LOGIN: 'off', RATE_LIMIT_LOGIN_IP: 'off' }, await freePort());
    try {
      await waitForHealth(svc);
      // One connection per request (no keep-alive), each a login that costs an argon2 verification.
      const login = () =>
        new Promise<number>((resolve, reject) => {
          const body = JSON.stringify({ username: 'nobody@test.example.org', password: 'Wrong-Pass-123' });
          const req = httpRequest(
            `${svc.url}/api/auth/login`,
            {
              method: 'POST',
              agent: false,
              headers: {
                'Content-Type': 'application/json',
                Connection: 'close',
                'Content-Length': Buffer.byteLength(body),
              },
            },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            },
          );
          req.on('error', reject);
          req.end(body);
        });
      const inFlight = Array.from({ length: 20 }, login);
      // Long enough for the service to take several connections even on a machine the other suites load.
      await new Promise((r) => setTimeout(r, 300));
      const signalled = Date.now();
      svc.child.kill('SIGTERM');
      const finished: number[] = [];
      // A connection still in the kernel's accept queue when the server closes is refused (reset):
      // it was never in flight. Every request the service had taken gets its real answer.
      const statuses = await Promise.all(
        inFlight.map((p) => p.then((status) => (finished.push(Date.now()), status)).catch(() => 'refused')),
      );
      // A request that reaches the server after the signal is turned away with 503 (Fastify's
      // return503OnClosing): not processed, so nothing half-done.
      const answered = statuses.filter((x) => x === 401);
      expect(answered.length).toBeGreaterThanOrEqual(5);
      expect(statuses.every((x) => x === 401 || x === 503 || x === 'refused')).toBe(true);
      expect(Math.max(...finished)).toBeGreaterThan(signalled);
      expect(await svc.exited).toBe(0);
      await expect(login()).rejects.toThrow();
    } finally {
      svc.child.kill('SIGKILL');
    }
  });

  it('recovers its database after being killed with SIGKILL', async () => {
    const first = spawnService(env, await freePort());
    await waitForHealth(first);
    first.child.kill('SIGKILL');
    await first.exited;
    const second = spawnService(env, await freePort());
    try {
      await waitForHealth(second);
      expect(second.output()).toContain('left running');
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      second.child.kill('SIGKILL');
    }
  }, 120_000); // two starts and a recovery from a killed server, which a machine busy with the other suites slows down

  it('starts in production without ADMIN_PASSWORD once an admin exists', async () => {
    const svc = spawnService({ ...env, NODE_ENV: 'production', JWT_SECRET: PRODUCTION_SECRET }, await freePort());
    try {
      await waitForHealth(svc);
      expect(svc.output()).not.toContain('ADMIN_PASSWORD');
      svc.child.kill('SIGTERM');
      expect(await svc.exited).toBe(0);
    } finally {
      svc.child.kill('SIGKILL');
    }
  });
});

describe('the first admin in production', () => {
  // A fresh database of its own on the test run's PostgreSQL server: no admin in it.
  let databaseUrl: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'identity-prod-'));
  beforeAll(async () => {
    const url = new URL(process.env.TEST_DATABASE_URL!);
    const name = `identity_first_admin_w${process.env.JEST_WORKER_ID ?? '1'}`;
    const c = new Client({ connectionString: url.toString() });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS "${name}"`);
      await c.query(`CREATE DATABASE "${name}"`);
    } finally {
      await c.end();
    }
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('refuses to start with no admin and no ADMIN_PASSWORD, as a configuration error', async () => {
    const env = { NODE_ENV: 'production', JWT_SECRET: PRODUCTION_SECRET, DATABASE_URL: databaseUrl, DATA_DIR: dataDir };
    const svc = spawnService(env, await freePort());
    expect(await svc.exited).toBe(78);
    expect(svc.output()).toContain('ADMIN_PASSWORD: is required in production while no admin exists');
    expect(existsSync(join(dataDir, 'initial-admin-password'))).toBe(false);
  });
});

describe('configuration is checked at boot', () => {
  // A DATA_DIR of its own: a development start writes its JWT key there before the rest is judged, and the
  // checkout's ./.data is the developer's.
  const dataDir = mkdtempSync(join(tmpdir(), 'identity-config-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const run = async (env: Record<string, string>) => {
    const svc = spawnService({ DATA_DIR: dataDir, ...env }, await freePort());
    const code = await svc.exited;
    return { code, output: svc.output() };
  };

  it('refuses to start in production without JWT_SECRET', async () => {
    const { code, output } = await run({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u:p@127.0.0.1:1/x' });
    expect(code).toBe(78);
    expect(output).toContain('JWT_SECRET: is required in production');
  });

  it('refuses a short or placeholder JWT_SECRET in production', async () => {
    const short = await run({
      NODE_ENV: 'production',
      JWT_SECRET: 'tooshort',
      DATABASE_URL: 'postgres://u:p@127.0.0.1:1/x',
    });
    expect(short.code).toBe(78);
    expect(short.output).toContain('must be at least 32 bytes');
    const placeholder = await run({
      NODE_ENV: 'production',
      JWT_SECRET: 'change-me-please-this-is-my-secret-key-1234',
      DATABASE_URL: 'postgres://u:p@127.0.0.1:1/x',
    });
    expect(placeholder.code).toBe(78);
    expect(placeholder.output).toContain('looks like a placeholder');
  });

  it('names every bad variable at once', async () => {
    const { code, output } = await run({ PORT: 'eighty', RATE_LIMIT_LOGIN: '5 per minute', JWT_EXPIRES_IN: 'forever' });
    expect(code).toBe(78);
    expect(output).toContain('PORT:');
    expect(output).toContain('RATE_LIMIT_LOGIN:');
    expect(output).toContain('JWT_EXPIRES_IN:');
  });
});
