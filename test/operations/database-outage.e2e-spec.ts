import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { api } from '../support/api';
import { startTestApp, TestApp } from '../support/harness';

interface PgProcess {
  url: string;
  stop(): Promise<void>;
}

/** Starts PostgreSQL in a child process (test/support/fixtures/pg-process.js, which uses the build). */
function startPg(dir: string, port?: number): Promise<PgProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [join(__dirname, '..', 'support', 'fixtures', 'pg-process.js'), dir, 'outage', ...(port ? [String(port)] : [])],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) {
        const { url } = JSON.parse(line) as { url: string };
        resolve({
          url,
          stop: () =>
            new Promise<void>((done) => {
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`pg-process exited with ${code}`)));
  });
}

/**
 * PostgreSQL goes away under the service and comes back: requests get 503 in their dialect (never a
 * 500), the detailed health page names the database, and the service recovers by itself.
 */
describe('PostgreSQL stopped and restarted under the service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'identity-outage-'));
  let pg: PgProcess;
  let port: number;
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    chmodSync(dir, 0o755);
    pg = await startPg(dir);
    port = Number(new URL(pg.url).port);
    t = await startTestApp({ DATABASE_URL: pg.url, KEEP_DATABASE: '1' });
    admin = await api(t).adminToken();
  });
  afterAll(async () => {
    await t?.close();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 while the database is down, and recovers when it returns', async () => {
    await request(t.url).get('/api/studies').set('Authorization', `Bearer ${admin}`).expect(200);
    await pg.stop();

    const portal = await request(t.url).get('/api/studies').set('Authorization', `Bearer ${admin}`);
    expect(portal.status).toBe(503);
    expect(portal.body).toEqual({ error: { code: 'SERVICE_UNAVAILABLE', message: 'Service temporarily unavailable' } });
    expect(portal.headers['retry-after']).toBeDefined();
    const clinical = await request(t.url).post('/api/login').send({ email: 'a@test.example.org', password: 'x' });
    expect(clinical.status).toBe(503);
    expect(clinical.body).toMatchObject({ success: false, code: 'SERVICE_UNAVAILABLE' });
    const iam = await request(t.url).post('/v1/auth/token/').send({ username: 'a', password: 'x' });
    expect(iam.status).toBe(503);
    expect(iam.body.error_codes).toEqual([503]);
    const health = await request(t.url).get('/api/health/detailed').set('Authorization', `Bearer ${admin}`);
    expect(health.status).toBe(503);
    expect(health.body.error.database.status).toBe('down');
    await request(t.url).get('/api/health').expect(200); // liveness does not depend on the database

    pg = await startPg(dir, port);
    const t0 = Date.now();
    let status = 0;
    while (Date.now() - t0 < 20_000) {
      status = (await request(t.url).get('/api/studies').set('Authorization', `Bearer ${admin}`)).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
    await request(t.url).get('/api/health/detailed').set('Authorization', `Bearer ${admin}`).expect(200);
  });
});
