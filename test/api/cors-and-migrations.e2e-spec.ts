import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { prepareDatabase, startTestApp, TEST_JWT_SECRET, TestApp, workerDatabaseUrl } from '../support/harness';

const run = promisify(execFile);

describe('CORS from CORS_ORIGINS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ CORS_ORIGINS: 'https://portal.example.org,https://app.example.org' });
  });
  afterAll(() => t.close());

  it('answers a preflight from a listed origin, with credentials and the custom headers', async () => {
    const res = await request(t.url)
      .options('/api/auth/login')
      .set('Origin', 'https://portal.example.org')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type,x-csrf-token');
    expect(res.status).toBeLessThan(300);
    expect(res.headers['access-control-allow-origin']).toBe('https://portal.example.org');
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers['access-control-allow-headers']).toMatch(/X-CSRF-Token/i);
  });

  it('gives no CORS grant to another origin', async () => {
    const res = await request(t.url).get('/api/health').set('Origin', 'https://evil.example.com').expect(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('npm run migration:* (the migration CLI)', () => {
  const url = new URL(workerDatabaseUrl());
  url.pathname = `${url.pathname}_cli`;
  const cli = join(__dirname, '..', '..', 'dist', 'migrate.js');
  // Generated files go to a scratch folder, never into the source tree.
  const env = {
    ...process.env,
    DATABASE_URL: url.toString(),
    JWT_SECRET: TEST_JWT_SECRET,
    NODE_ENV: 'test',
    MIGRATIONS_DIR: mkdtempSync(join(tmpdir(), 'identity-migrations-')),
  };

  beforeAll(() => prepareDatabase(url.toString()));

  it('applies pending migrations, then finds none; reverts the last one and applies it again', async () => {
    const first = await run(process.execPath, [cli, 'run'], { env });
    expect(first.stdout).toMatch(/applied: Foundation\d+, PortalAuth\d+/);
    const second = await run(process.execPath, [cli, 'run'], { env });
    expect(second.stdout).toContain('no pending migrations');
    const revert = await run(process.execPath, [cli, 'revert'], { env });
    expect(revert.stdout).toContain('reverted the last migration');
    const again = await run(process.execPath, [cli, 'run'], { env });
    expect(again.stdout).toMatch(/applied: \w+/);
  });

  it('finds nothing to generate when the entities and the migrations agree', async () => {
    const gen = await run(process.execPath, [cli, 'generate', 'Nothing'], { env });
    expect(gen.stdout).toContain('nothing to generate');
  });

  it('refuses an unknown command', async () => {
    await expect(run(process.execPath, [cli, 'explode'], { env })).rejects.toMatchObject({ code: 1 });
  });
});
