import * as argon2 from 'argon2';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { AccessTokensService } from '../../src/sessions/access-tokens.service';
import { LoginSessionsService } from '../../src/sessions/login-sessions.service';
import { ADMIN_EMAIL, startTestApp, TestApp } from '../support/harness';
import { forgeJwt } from '../support/tokens';

describe('foundation: health, JWT machinery, error dialect, admin bootstrap', () => {
  let t: TestApp;
  let adminId: string;

  /** A token as the login routes will issue it: a real login session and the service's signer. */
  async function tokenFor(userId: string, role: 'admin' | 'viewer', ttlSec = 3600) {
    const assurance = { amr: ['pwd'], aal: 1 as const };
    const session = await t.app
      .get(LoginSessionsService)
      .open({ userId, method: 'password', ttlMs: ttlSec * 1000, ...assurance });
    const { token } = t.app.get(AccessTokensService).issue({ id: userId, role }, session.id, ttlSec, {
      ...assurance,
      authTime: Math.floor(Date.now() / 1000),
    });
    return { token, sessionId: session.id };
  }

  beforeAll(async () => {
    t = await startTestApp();
    const [row] = await t.db.query(`SELECT id FROM users WHERE email = $1`, [ADMIN_EMAIL]);
    adminId = row.id;
  });
  afterAll(() => t.close());

  it('answers liveness without authentication, with security headers', async () => {
    const res = await request(t.url).get('/api/health').expect(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it("gives the HTML docs helmet's page headers, with a policy that lets Swagger UI load its own assets", async () => {
    const res = await request(t.url).get('/docs').redirects(1).expect(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
  });

  it('accepts a trailing slash on every route', async () => {
    await request(t.url).get('/api/health/').expect(200);
  });

  it('refuses the detailed health page without credentials, in the portal dialect', async () => {
    const res = await request(t.url).get('/api/health/detailed').expect(401);
    expect(res.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'Authentication required' } });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="identity"/);
  });

  it('shows an admin every dependency of the detailed health page', async () => {
    const { token } = await tokenFor(adminId, 'admin');
    const res = await request(t.url).get('/api/health/detailed').set('Authorization', `Bearer ${token}`).expect(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.details.database.status).toBe('up');
    expect(res.body.details.mail).toEqual({ status: 'up', mode: 'smtp' });
    expect(res.body.details.sms).toEqual({ status: 'up', mode: 'file' });
    expect(res.body.details.redis).toEqual({ status: 'up', configured: false });
  });

  it('forbids the detailed health page to a non-admin (403, not 401)', async () => {
    const [viewer] = await t.db.query(
      `INSERT INTO users (email, role) VALUES ('viewer@test.example.org', 'viewer') RETURNING id`,
    );
    const { token } = await tokenFor(viewer.id, 'viewer');
    const res = await request(t.url).get('/api/health/detailed').set('Authorization', `Bearer ${token}`).expect(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
  });

  it('answers an unknown path with 404 in the portal dialect', async () => {
    const res = await request(t.url).get('/api/no-such-thing').expect(404);
    expect(res.body).toEqual({ error: { code: 'NOT_FOUND', message: 'Not found' } });
  });

  describe('the JWT check', () => {
    const call = (token: string) => request(t.url).get('/api/health/detailed').set('Authorization', `Bearer ${token}`);

    it('refuses alg "none"', async () => {
      const token = forgeJwt({ sub: adminId, sid: 'x', role: 'admin' }, { alg: 'none', signature: '' });
      const res = await call(token).expect(401);
      expect(res.body.error.code).toBe('INVALID_TOKEN');
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    });

    it('refuses a token signed with another key', async () => {
      const { sessionId } = await tokenFor(adminId, 'admin');
      const token = forgeJwt(
        { sub: adminId, sid: sessionId, role: 'admin' },
        { secret: 'another-secret-of-sufficient-length!!' },
      );
      expect((await call(token).expect(401)).body.error.code).toBe('INVALID_TOKEN');
    });

    it('refuses HS512 even with the right key (the algorithm is pinned)', async () => {
      const { sessionId } = await tokenFor(adminId, 'admin');
      const token = forgeJwt({ sub: adminId, sid: sessionId, role: 'admin' }, { alg: 'HS512' });
      await call(token).expect(401);
    });

    it('tells an expired token apart from an invalid one', async () => {
      const { sessionId } = await tokenFor(adminId, 'admin');
      const past = Math.floor(Date.now() / 1000) - 120;
      const token = forgeJwt({ sub: adminId, sid: sessionId, role: 'admin', iat: past - 60, exp: past });
      const res = await call(token).expect(401);
      expect(res.body.error).toEqual({ code: 'TOKEN_EXPIRED', message: 'Access token has expired' });
    });

    it('refuses the wrong issuer, the wrong audience and the wrong typ', async () => {
      const { sessionId } = await tokenFor(adminId, 'admin');
      const base = { sub: adminId, sid: sessionId, role: 'admin' };
      await call(forgeJwt({ ...base, iss: 'someone-else' })).expect(401);
      await call(forgeJwt({ ...base, aud: 'another-api' })).expect(401);
      await call(forgeJwt(base, { typ: 'JWT' })).expect(401);
      await call(forgeJwt(base)).expect(200);
    });

    it('refuses a garbage token and a malformed Authorization header', async () => {
      await call('not.a.jwt').expect(401);
      await request(t.url).get('/api/health/detailed').set('Authorization', 'Bearer').expect(401);
      await request(t.url).get('/api/health/detailed').set('Authorization', 'Weird scheme').expect(401);
    });

    it('refuses the token of a revoked login session at once', async () => {
      const { token, sessionId } = await tokenFor(adminId, 'admin');
      await call(token).expect(200);
      await t.app.get(LoginSessionsService).revoke({ sessionId }, 'logout');
      const res = await call(token).expect(401);
      expect(res.body.error.message).toBe('Session has been revoked');
    });

    it('learns of a revocation written by another instance within a second', async () => {
      const { token, sessionId } = await tokenFor(adminId, 'admin');
      await call(token).expect(200);
      // Another instance revokes by writing to the shared database; this one polls it.
      await t.db.query(`UPDATE login_sessions SET revoked_at = now(), revoked_reason = 'logout' WHERE id = $1`, [
        sessionId,
      ]);
      await new Promise((r) => setTimeout(r, 1000));
      await call(token).expect(401);
    });

    it('accepts the auth_token cookie for safe methods', async () => {
      const { token } = await tokenFor(adminId, 'admin');
      await request(t.url).get('/api/health/detailed').set('Cookie', `auth_token=${token}`).expect(200);
    });
  });

  describe('the first admin', () => {
    it('exists with an argon2id hash of the configured cost, verified email and no plain password', async () => {
      const [row] = await t.db.query(
        `SELECT role, password_hash, email_verified, is_active FROM users WHERE email = $1`,
        [ADMIN_EMAIL],
      );
      expect(row.role).toBe('admin');
      expect(row.email_verified).toBe(true);
      expect(row.is_active).toBe(true);
      expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$/);
      const params = Object.fromEntries(
        row.password_hash
          .split('$')[3]
          .split(',')
          .map((kv: string) => kv.split('=')),
      );
      expect(params).toEqual({ m: '19456', t: '2', p: '1' });
    });

    it('is not created twice when the service starts again', async () => {
      await t.restart();
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM users WHERE role = 'admin'`);
      expect(n).toBe(1);
      await request(t.url).get('/api/health').expect(200);
    });
  });
});

describe('first admin with a generated password', () => {
  it('writes a generated password to DATA_DIR/initial-admin-password (0600) and prints only where it is', async () => {
    const printed: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
    let t: TestApp | undefined;
    try {
      t = await startTestApp({ ADMIN_PASSWORD: '', ADMIN_EMAIL: 'root@test.example.org' });
    } finally {
      spy.mockRestore();
    }
    try {
      const file = join(t.dataDir, 'initial-admin-password');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const password = readFileSync(file, 'utf8').trim();
      expect(password).toMatch(/[a-z]/);
      expect(password).toMatch(/[A-Z]/);
      expect(password).toMatch(/\d/);
      expect(password.length).toBeGreaterThanOrEqual(24);
      const [row] = await t.db.query(`SELECT password_hash FROM users WHERE email = 'root@test.example.org'`);
      expect(await argon2.verify(row.password_hash, password)).toBe(true);
      const text = printed.join('');
      expect(text).toContain(`Its generated password is in ${file}`);
      expect(text).not.toContain(password);
      expect(t.logs.text).toContain(file);
      expect(t.logs.text).not.toContain(password);
    } finally {
      await t?.close();
    }
  });
});
