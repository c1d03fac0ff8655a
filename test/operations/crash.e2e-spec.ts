import { Client } from 'pg';
import { ADMIN_EMAIL, ADMIN_PASSWORD, prepareDatabase, TEST_JWT_SECRET, workerDatabaseUrl } from '../support/harness';
import { freePort, spawnService, waitForHealth } from '../support/process';

/**
 * What was acknowledged survives a crash: submissions that received a 201 are in the database after the
 * process is killed with SIGKILL mid-flight, and nothing is half-written.
 */
describe('SIGKILL while submissions are in flight', () => {
  const url = new URL(workerDatabaseUrl());
  url.pathname = `${url.pathname}_crash`;
  const env = {
    DATABASE_URL: url.toString(),
    JWT_SECRET: TEST_JWT_SECRET,
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_DEFAULT: 'off',
    RATE_LIMIT_LOGIN: 'off',
    RATE_LIMIT_LOGIN_IP: 'off',
  };

  beforeAll(() => prepareDatabase(url.toString()));

  it('keeps every submission that was answered 201', async () => {
    const first = spawnService(env, await freePort());
    await waitForHealth(first);
    const login = await fetch(`${first.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
    });
    const { access_token } = (await login.json()) as { access_token: string };
    const sessions: string[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await fetch(`${first.url}/api/session/start`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${access_token}` },
        body: JSON.stringify({ participant_id: `P${i}`, battery_id: 'crash' }),
      });
      sessions.push(((await res.json()) as { session_id: string }).session_id);
    }

    const acknowledged: { submission_id: string; trial_count: number }[] = [];
    let killed = false;
    const submit = async (sessionId: string, i: number) => {
      const trials = Array.from({ length: 2000 + i }, (_, k) => ({ k, rt: 300 + (k % 200), stimulus: 'x'.repeat(40) }));
      try {
        const res = await fetch(`${first.url}/api/submit`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Session-ID': sessionId },
          body: JSON.stringify({ session_id: sessionId, task_summaries: { i }, trials }),
        });
        if (res.status === 201) {
          acknowledged.push((await res.json()) as { submission_id: string; trial_count: number });
          if (!killed && acknowledged.length >= 5) {
            killed = true;
            first.child.kill('SIGKILL');
          }
        }
      } catch {
        /* the connection died with the process: not acknowledged */
      }
    };
    await Promise.all(sessions.map((s, i) => submit(s, i)));
    await first.exited;
    expect(killed).toBe(true);
    expect(acknowledged.length).toBeGreaterThanOrEqual(5);
    expect(acknowledged.length).toBeLessThan(60);

    const second = spawnService(env, await freePort());
    try {
      await waitForHealth(second);
      const db = new Client({ connectionString: url.toString() });
      await db.connect();
      try {
        for (const a of acknowledged) {
          const { rows } = await db.query(
            `SELECT trial_count, jsonb_array_length(trials) AS n FROM submissions WHERE id = $1`,
            [a.submission_id],
          );
          expect(rows).toEqual([{ trial_count: a.trial_count, n: a.trial_count }]);
        }
        // Nothing half-written: a session is marked submitted exactly when its submission exists.
        const { rows: torn } = await db.query(
          `SELECT a.id FROM assessment_sessions a LEFT JOIN submissions s ON s.session_id = a.id
            WHERE (a.status = 'submitted') <> (s.id IS NOT NULL)`,
        );
        expect(torn).toEqual([]);
      } finally {
        await db.end();
      }
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 120_000); // two starts and a recovery, on a machine the other suites may load

  it('keeps every sign-up that was answered 201, each with its credential, and nothing half-written', async () => {
    const first = spawnService({ ...env, RATE_LIMIT_REGISTER: 'off' }, await freePort());
    await waitForHealth(first);
    const acknowledged: { email: string; key: string }[] = [];
    let killed = false;
    const signUp = async (i: number) => {
      const email = `crash${i}@test.example.org`;
      try {
        const res = await fetch(`${first.url}/users`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ client: 'web', email, password: 'Quartz-Meadow-2931' }),
        });
        if (res.status === 201) {
          acknowledged.push({ email, key: ((await res.json()) as { key: string }).key });
          if (!killed && acknowledged.length >= 5) {
            killed = true;
            first.child.kill('SIGKILL');
          }
        }
      } catch {
        /* the connection died with the process */
      }
    };
    await Promise.all(Array.from({ length: 60 }, (_, i) => signUp(i)));
    await first.exited;
    expect(killed).toBe(true);
    expect(acknowledged.length).toBeLessThan(60);

    const second = spawnService(env, await freePort());
    try {
      await waitForHealth(second);
      const db = new Client({ connectionString: url.toString() });
      await db.connect();
      try {
        for (const a of acknowledged) {
          const { rows } = await db.query(
            `SELECT u.password_hash LIKE '$argon2id$%' AS hashed, kt.key FROM users u JOIN key_tokens kt ON kt.user_id = u.id WHERE u.email = $1`,
            [a.email],
          );
          expect(rows).toEqual([{ hashed: true, key: a.key }]);
        }
        const { rows: orphans } = await db.query(
          `SELECT u.email FROM users u LEFT JOIN key_tokens kt ON kt.user_id = u.id WHERE u.email LIKE 'crash%' AND kt.id IS NULL`,
        );
        expect(orphans).toEqual([]);
      } finally {
        await db.end();
      }
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});
