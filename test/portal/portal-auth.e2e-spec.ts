import * as argon2 from 'argon2';
import request from 'supertest';
import { api, decodeJwt, PASSWORD, sameTime } from '../support/api';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestApp, TestApp } from '../support/harness';
import { forgeJwt } from '../support/tokens';

describe('portal: password login, refresh, logout, sessions', () => {
  let t: TestApp;
  let h: ReturnType<typeof api>;

  beforeAll(async () => {
    t = await startTestApp();
    h = api(t);
    await h.createUser('ada@test.example.org', 'researcher');
  });
  afterAll(() => t.close());

  describe('POST /api/auth/login', () => {
    it('signs in a browser client with a form body, and the token opens GET /api/studies', async () => {
      // Exactly what the documented browser client sends.
      const res = await request(t.url)
        .post('/api/auth/login')
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send(new URLSearchParams({ username: 'ada@test.example.org', password: PASSWORD }).toString())
        .expect(200);
      expect(res.body).toEqual({
        access_token: expect.any(String),
        token_type: 'bearer',
        expires_in: 86400,
        refresh_token: expect.any(String),
        user: expect.objectContaining({ email: 'ada@test.example.org', role: 'researcher' }),
      });
      expect(res.body.user).not.toHaveProperty('password_hash');
      expect(res.body.user).not.toHaveProperty('passwordHash');
      const studies = await request(t.url)
        .get('/api/studies')
        .set('Authorization', `Bearer ${res.body.access_token}`)
        .expect(200);
      expect(studies.body).toEqual([]);
    });

    it('accepts JSON with `email`, and an email in any case with spaces around it', async () => {
      await request(t.url)
        .post('/api/auth/login')
        .send({ email: 'ada@test.example.org', password: PASSWORD })
        .expect(200);
      await request(t.url)
        .post('/api/auth/login')
        .send({ username: '  ADA@Test.Example.org ', password: PASSWORD })
        .expect(200);
    });

    it('accepts a username in either field', async () => {
      await t.db.query(`UPDATE users SET username = 'ada.l' WHERE email = 'ada@test.example.org'`);
      await request(t.url).post('/api/auth/login').send({ username: 'ada.l', password: PASSWORD }).expect(200);
      await request(t.url).post('/api/auth/login').send({ email: 'ADA.L', password: PASSWORD }).expect(200);
    });

    it('issues a JWT with the documented claims, pinned to HS256 and typed at+jwt', async () => {
      const { access_token } = await h.login('ada@test.example.org', PASSWORD);
      const header = JSON.parse(Buffer.from(access_token.split('.')[0], 'base64url').toString());
      expect(header).toEqual({ alg: 'HS256', typ: 'at+jwt' });
      const claims = decodeJwt(access_token);
      expect(Object.keys(claims).sort()).toEqual(
        ['aal', 'amr', 'aud', 'auth_time', 'exp', 'iat', 'iss', 'jti', 'role', 'sid', 'sub'].sort(),
      );
      // A password alone is one factor (RFC 8176 `pwd`, NIST AAL1).
      expect(claims).toMatchObject({ amr: ['pwd'], aal: 'aal1' });
      expect(claims.exp as number).toBe((claims.iat as number) + 86400);
      expect(claims.role).toBe('researcher');
    });

    it('gives a 30-day token with remember', async () => {
      const body = await h.login('ada@test.example.org', PASSWORD, { remember: true });
      expect(body.expires_in).toBe(30 * 86400);
      const claims = decodeJwt(body.access_token);
      expect((claims.exp as number) - (claims.iat as number)).toBe(30 * 86400);
      const form = await request(t.url)
        .post('/api/auth/login')
        .type('form')
        .send({ username: 'ada@test.example.org', password: PASSWORD, remember: 'true' })
        .expect(200);
      expect(form.body.expires_in).toBe(30 * 86400);
    });

    it('answers a wrong password and an unknown user identically', async () => {
      const wrong = await request(t.url)
        .post('/api/auth/login')
        .send({ username: 'ada@test.example.org', password: 'Wrong-Pass-123' });
      const unknown = await request(t.url)
        .post('/api/auth/login')
        .send({ username: 'nobody@test.example.org', password: 'Wrong-Pass-123' });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(wrong.body).toEqual({ error: { code: 'INVALID_CREDENTIALS', message: 'Invalid username or password' } });
      expect(unknown.body).toEqual(wrong.body);
    });

    it('takes the same time for an unknown user as for a wrong password', async () => {
      const attempt = (username: string) =>
        request(t.url).post('/api/auth/login').send({ username, password: 'Wrong-Pass-123' }).expect(401);
      expect(
        await sameTime(
          () => attempt('ada@test.example.org'),
          (i) => attempt(`ghost${i}@test.example.org`),
        ),
      ).toBe('the same time');
    });

    it('refuses a disabled account with 403 after checking the password', async () => {
      const u = await h.createUser('disabled@test.example.org', 'viewer');
      await t.db.query(`UPDATE users SET is_active = false WHERE id = $1`, [u.id]);
      const res = await request(t.url)
        .post('/api/auth/login')
        .send({ username: 'disabled@test.example.org', password: PASSWORD })
        .expect(403);
      expect(res.body.error.code).toBe('ACCOUNT_DISABLED');
      await request(t.url)
        .post('/api/auth/login')
        .send({ username: 'disabled@test.example.org', password: 'Wrong-Pass-123' })
        .expect(401);
    });

    it('rehashes a password stored with outdated parameters on the next successful login', async () => {
      const u = await h.createUser('legacy@test.example.org', 'viewer');
      const old = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 8192, timeCost: 1, parallelism: 1 });
      await t.db.query(`UPDATE users SET password_hash = $1 WHERE id = $2`, [old, u.id]);
      await h.login('legacy@test.example.org', PASSWORD);
      const [row] = await t.db.query(`SELECT password_hash FROM users WHERE id = $1`, [u.id]);
      expect(row.password_hash).not.toBe(old);
      expect(row.password_hash).toMatch(/m=19456/);
      expect(await argon2.verify(row.password_hash, PASSWORD)).toBe(true);
    });

    it.each([
      [{ password: PASSWORD }, 'username'],
      [{ username: 'ada@test.example.org' }, 'password'],
      [{ username: 'ada@test.example.org', password: 12345678 }, 'password'],
      [{ username: ['a'], password: PASSWORD }, 'username'],
      [{ username: 'ada@test.example.org', password: PASSWORD, remember: 'maybe' }, 'remember'],
      [{ username: 'x'.repeat(400), password: PASSWORD }, 'username'],
    ])('rejects %j with 400 naming %s', async (body, field) => {
      const res = await request(t.url).post('/api/auth/login').send(body).expect(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(Object.keys(res.body.error.details)).toContain(field);
    });

    it('answers malformed JSON, a JSON array, a wrong content type and a huge body in the portal dialect', async () => {
      const bad = await request(t.url)
        .post('/api/auth/login')
        .set('Content-Type', 'application/json')
        .send('{"username": "a", ')
        .expect(400);
      expect(bad.body).toEqual({ error: { code: 'BAD_REQUEST', message: 'Malformed JSON in request body' } });
      const arr = await request(t.url).post('/api/auth/login').send([1, 2]).expect(400);
      expect(arr.body.error.code).toBe('VALIDATION_ERROR');
      const text = await request(t.url)
        .post('/api/auth/login')
        .set('Content-Type', 'text/plain')
        .send('hello')
        .expect(415);
      expect(text.body).toEqual({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Unsupported content type' } });
      const huge = await request(t.url)
        .post('/api/auth/login')
        .send({ username: 'a', password: 'x'.repeat(1024 * 1024 + 10) })
        .expect(413);
      expect(huge.body).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'Request body is too large' } });
      const empty = await request(t.url)
        .post('/api/auth/login')
        .set('Content-Type', 'application/json')
        .send('')
        .expect(400);
      // An empty JSON body is no body: the route's own validation error, naming the missing fields.
      expect(empty.body.error.code).toBe('VALIDATION_ERROR');
    });
  });

  describe('GET /api/auth/me', () => {
    it('returns the current user for a bearer token', async () => {
      const { access_token } = await h.login('ada@test.example.org', PASSWORD);
      const res = await request(t.url).get('/api/auth/me').set(h.bearer(access_token)).expect(200);
      expect(res.body).toMatchObject({ email: 'ada@test.example.org', role: 'researcher', is_active: true });
    });

    it('refuses no token, a forged token and an expired one, telling expiry apart', async () => {
      await request(t.url).get('/api/auth/me').expect(401);
      const { user } = await h.login('ada@test.example.org', PASSWORD);
      const none = forgeJwt({ sub: user.id, sid: 'x', role: 'admin' }, { alg: 'none', signature: '' });
      await request(t.url).get('/api/auth/me').set(h.bearer(none)).expect(401);
      const other = forgeJwt(
        { sub: user.id, sid: 'x', role: 'admin' },
        { secret: 'some-other-secret-that-is-long-enough' },
      );
      expect((await request(t.url).get('/api/auth/me').set(h.bearer(other)).expect(401)).body.error.code).toBe(
        'INVALID_TOKEN',
      );
      const past = Math.floor(Date.now() / 1000) - 100;
      const expired = forgeJwt({ sub: user.id, sid: 'x', role: 'researcher', iat: past - 100, exp: past });
      const res = await request(t.url).get('/api/auth/me').set(h.bearer(expired)).expect(401);
      expect(res.body.error.code).toBe('TOKEN_EXPIRED');
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    });
  });

  describe('POST /api/auth/refresh', () => {
    it('rotates: a new pair, the old refresh token retired, the new one working', async () => {
      const first = await h.login('ada@test.example.org', PASSWORD);
      const second = await request(t.url)
        .post('/api/auth/refresh')
        .send({ refresh_token: first.refresh_token })
        .expect(200);
      expect(second.body.refresh_token).not.toBe(first.refresh_token);
      expect(second.body.access_token).not.toBe(first.access_token);
      expect(decodeJwt(second.body.access_token).sid).toBe(decodeJwt(first.access_token).sid);
      await request(t.url).get('/api/auth/me').set(h.bearer(second.body.access_token)).expect(200);
      const third = await request(t.url)
        .post('/api/auth/refresh')
        .send({ refresh_token: second.body.refresh_token })
        .expect(200);
      expect(third.body.refresh_token).not.toBe(second.body.refresh_token);
    });

    it('treats a rotated token that comes back (after the grace window) as theft: the whole session ends', async () => {
      const first = await h.login('ada@test.example.org', PASSWORD);
      const second = await request(t.url)
        .post('/api/auth/refresh')
        .send({ refresh_token: first.refresh_token })
        .expect(200);
      // Let the grace window pass without waiting for it.
      await t.db.query(
        `UPDATE refresh_tokens SET rotated_at = rotated_at - interval '1 minute' WHERE rotated_at IS NOT NULL`,
      );
      const reuse = await request(t.url)
        .post('/api/auth/refresh')
        .send({ refresh_token: first.refresh_token })
        .expect(401);
      expect(reuse.body.error.code).toBe('INVALID_TOKEN');
      await request(t.url).post('/api/auth/refresh').send({ refresh_token: second.body.refresh_token }).expect(401);
      await request(t.url).get('/api/auth/me').set(h.bearer(second.body.access_token)).expect(401);
      await request(t.url).get('/api/auth/me').set(h.bearer(first.access_token)).expect(401);
    });

    it('gives two tabs refreshing at once the same new pair (grace window), and exactly one chain survives', async () => {
      const first = await h.login('ada@test.example.org', PASSWORD);
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          request(t.url).post('/api/auth/refresh').send({ refresh_token: first.refresh_token }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
      const successors = new Set(results.map((r) => r.body.refresh_token));
      expect(successors.size).toBe(1);
      const [{ n }] = await t.db.query(
        `SELECT count(*)::int AS n FROM refresh_tokens WHERE session_id = $1 AND rotated_at IS NULL`,
        [decodeJwt(first.access_token).sid],
      );
      expect(n).toBe(1);
      await request(t.url)
        .post('/api/auth/refresh')
        .send({ refresh_token: [...successors][0] })
        .expect(200);
    });

    it('refuses an unknown, malformed or missing refresh token', async () => {
      await request(t.url).post('/api/auth/refresh').send({ refresh_token: 'nope' }).expect(401);
      await request(t.url)
        .post('/api/auth/refresh')
        .send({ refresh_token: 'x'.repeat(300) })
        .expect(400);
      await request(t.url).post('/api/auth/refresh').send({ refresh_token: 42 }).expect(400);
      const missing = await request(t.url).post('/api/auth/refresh').send({}).expect(400);
      expect(missing.body.error.details).toHaveProperty('refresh_token');
    });

    it('refuses a refresh token past its absolute expiry, however recently it rotated', async () => {
      const first = await h.login('ada@test.example.org', PASSWORD);
      await t.db.query(`UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE session_id = $1`, [
        decodeJwt(first.access_token).sid,
      ]);
      await request(t.url).post('/api/auth/refresh').send({ refresh_token: first.refresh_token }).expect(401);
    });

    it('stores refresh tokens only as hashes', async () => {
      const first = await h.login('ada@test.example.org', PASSWORD);
      const rows = await t.db.query(`SELECT token_hash FROM refresh_tokens`);
      expect(rows.some((r: { token_hash: string }) => r.token_hash === first.refresh_token)).toBe(false);
      expect(rows.every((r: { token_hash: string }) => /^[0-9a-f]{64}$/.test(r.token_hash))).toBe(true);
    });
  });

  describe('logout and sessions', () => {
    it('logout ends the session at once: its access and refresh tokens are refused', async () => {
      const s = await h.login('ada@test.example.org', PASSWORD);
      await request(t.url).post('/api/auth/logout').set(h.bearer(s.access_token)).expect(204);
      await request(t.url).get('/api/auth/me').set(h.bearer(s.access_token)).expect(401);
      await request(t.url).post('/api/auth/refresh').send({ refresh_token: s.refresh_token }).expect(401);
      await request(t.url).post('/api/auth/logout').set(h.bearer(s.access_token)).expect(401);
    });

    it('lists live sessions, marks the current one, and revokes another by id', async () => {
      const u = await h.createUser('sessions@test.example.org', 'viewer');
      const a = await h.login('sessions@test.example.org', PASSWORD);
      const b = await h.login('sessions@test.example.org', PASSWORD);
      const list = await request(t.url).get('/api/auth/sessions').set(h.bearer(a.access_token)).expect(200);
      expect(list.body).toHaveLength(2);
      const current = list.body.find((s: { current: boolean }) => s.current);
      expect(current.id).toBe(decodeJwt(a.access_token).sid);
      const other = decodeJwt(b.access_token).sid as string;
      await request(t.url).delete(`/api/auth/sessions/${other}`).set(h.bearer(a.access_token)).expect(204);
      await request(t.url).get('/api/auth/me').set(h.bearer(b.access_token)).expect(401);
      await request(t.url).get('/api/auth/me').set(h.bearer(a.access_token)).expect(200);
      expect(u.id).toBeDefined();
    });

    it("answers 404 for another user's session, an unknown id and a malformed id", async () => {
      const mine = await h.login('ada@test.example.org', PASSWORD);
      const theirs = await h.login(ADMIN_EMAIL, ADMIN_PASSWORD);
      const sid = decodeJwt(theirs.access_token).sid;
      await request(t.url).delete(`/api/auth/sessions/${sid}`).set(h.bearer(mine.access_token)).expect(404);
      await request(t.url).get('/api/auth/me').set(h.bearer(theirs.access_token)).expect(200);
      await request(t.url)
        .delete('/api/auth/sessions/00000000-0000-4000-8000-000000000000')
        .set(h.bearer(mine.access_token))
        .expect(404);
      const bad = await request(t.url)
        .delete('/api/auth/sessions/not-a-uuid')
        .set(h.bearer(mine.access_token))
        .expect(404);
      expect(bad.body.error.code).toBe('NOT_FOUND');
    });

    it('logout-all ends every session of the user', async () => {
      await h.createUser('many@test.example.org', 'viewer');
      const sessions = await Promise.all([1, 2, 3].map(() => h.login('many@test.example.org', PASSWORD)));
      await request(t.url).post('/api/auth/logout-all').set(h.bearer(sessions[0].access_token)).expect(204);
      for (const s of sessions) await request(t.url).get('/api/auth/me').set(h.bearer(s.access_token)).expect(401);
    });
  });

  describe('cookies and CSRF', () => {
    const cookiesOf = (res: request.Response): Record<string, string> => {
      const out: Record<string, string> = {};
      for (const c of (res.headers['set-cookie'] as unknown as string[]) ?? []) out[c.split('=')[0]] = c;
      return out;
    };
    const value = (cookie: string) => cookie.split(';')[0].split('=').slice(1).join('=');

    it('sets HttpOnly cookies with set_cookie; the cookie authenticates safe requests', async () => {
      const res = await request(t.url)
        .post('/api/auth/login')
        .type('form')
        .send({ username: 'ada@test.example.org', password: PASSWORD, set_cookie: 'true' })
        .expect(200);
      const c = cookiesOf(res);
      expect(c.auth_token).toMatch(/HttpOnly/);
      expect(c.auth_token).toMatch(/SameSite=Lax/);
      expect(c.auth_token).toMatch(/Path=\//);
      expect(c.auth_token).toMatch(/Secure/); // only development drops Secure
      expect(c.refresh_token).toMatch(/HttpOnly/);
      expect(c.refresh_token).toMatch(/Path=\/api\/auth\/refresh/);
      expect(c.csrf_token).not.toMatch(/HttpOnly/);
      expect(value(c.auth_token)).toBe(res.body.access_token);
      await request(t.url)
        .get('/api/auth/me')
        .set('Cookie', `auth_token=${value(c.auth_token)}`)
        .expect(200);
    });

    it('refuses an unsafe cookie-authenticated request without the CSRF header, and accepts it with it', async () => {
      const res = await request(t.url)
        .post('/api/auth/login')
        .send({ username: 'ada@test.example.org', password: PASSWORD, set_cookie: true })
        .expect(200);
      const c = cookiesOf(res);
      const jar = `auth_token=${value(c.auth_token)}; csrf_token=${value(c.csrf_token)}`;
      const refused = await request(t.url).post('/api/auth/logout').set('Cookie', jar).expect(403);
      expect(refused.body.error.code).toBe('CSRF_TOKEN_INVALID');
      await request(t.url).post('/api/auth/logout').set('Cookie', jar).set('X-CSRF-Token', 'wrong').expect(403);
      await request(t.url)
        .post('/api/auth/logout')
        .set('Cookie', jar)
        .set('X-CSRF-Token', value(c.csrf_token))
        .expect(204);
      await request(t.url).get('/api/auth/me').set('Cookie', jar).expect(401);
    });

    it('refreshes from the refresh cookie only with the CSRF header', async () => {
      const res = await request(t.url)
        .post('/api/auth/login')
        .send({ username: 'ada@test.example.org', password: PASSWORD, set_cookie: true })
        .expect(200);
      const c = cookiesOf(res);
      const jar = `refresh_token=${value(c.refresh_token)}; csrf_token=${value(c.csrf_token)}`;
      await request(t.url).post('/api/auth/refresh').set('Cookie', jar).expect(403);
      const ok = await request(t.url)
        .post('/api/auth/refresh')
        .set('Cookie', jar)
        .set('X-CSRF-Token', value(c.csrf_token))
        .expect(200);
      expect(cookiesOf(ok).auth_token).toBeDefined();
      expect(value(cookiesOf(ok).refresh_token)).toBe(ok.body.refresh_token);
    });
  });
});

describe('portal: what the log never holds', () => {
  it('keeps passwords, tokens, session ids, cookies and Authorization headers out of the log (login, refresh, submit)', async () => {
    const t = await startTestApp();
    try {
      const h = api(t);
      const s = await h.login(ADMIN_EMAIL, ADMIN_PASSWORD, { set_cookie: true });
      const r = await request(t.url).post('/api/auth/refresh').send({ refresh_token: s.refresh_token }).expect(200);
      await request(t.url).get('/api/auth/me').set(h.bearer(r.body.access_token)).expect(200);
      await request(t.url).get('/api/auth/me').set('Cookie', `auth_token=${r.body.access_token}`).expect(200);
      await request(t.url).get('/api/auth/me?token=secret-in-query').expect(401);
      const started = await request(t.url)
        .post('/api/session/start')
        .set(h.bearer(r.body.access_token))
        .send({ participant_id: 'P', battery_id: 'B' })
        .expect(201);
      const sid = started.body.session_id as string;
      await request(t.url)
        .post('/api/submit')
        .set('X-Session-ID', sid)
        .send({ session_id: sid, task_summaries: {}, trials: [] })
        .expect(201);
      await request(t.url)
        .post('/api/auth/login')
        .send({ username: ADMIN_EMAIL, password: 'Typo-Password-99' })
        .expect(401);
      const log = t.logs.text;
      expect(log).toContain('request completed'); // the log is really captured
      for (const secret of [
        ADMIN_PASSWORD,
        'Typo-Password-99',
        s.access_token,
        s.refresh_token,
        r.body.access_token,
        r.body.refresh_token,
        'secret-in-query',
        sid,
      ]) {
        expect(log).not.toContain(secret);
      }
      expect(log).not.toMatch(/"authorization":"Bearer/i);
    } finally {
      await t.close();
    }
  });
});

describe('portal: login rate limits', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_LOGIN: '5/15m', RATE_LIMIT_LOGIN_IP: '8/15m' });
  });
  afterAll(() => t.close());

  it('answers the 6th attempt for one account in 15 minutes with 429 and Retry-After', async () => {
    for (let i = 1; i <= 5; i++) {
      const res = await request(t.url)
        .post('/api/auth/login')
        .send({ username: ADMIN_EMAIL, password: 'Wrong-Pass-123' })
        .expect(401);
      expect(res.headers['x-ratelimit-limit']).toBe('5');
      expect(res.headers['x-ratelimit-remaining']).toBe(String(5 - i));
      expect(Number(res.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
    }
    const res = await request(t.url)
      .post('/api/auth/login')
      .send({ username: ADMIN_EMAIL, password: ADMIN_PASSWORD })
      .expect(429);
    expect(res.body).toEqual({ error: { code: 'RATE_LIMIT_EXCEEDED', message: 'Too many requests, try again later' } });
    const retry = Number(res.headers['retry-after']);
    expect(retry).toBeGreaterThan(800);
    expect(retry).toBeLessThanOrEqual(900);
  });

  it('counts the account case-insensitively, and another account from the same IP still gets through', async () => {
    await request(t.url)
      .post('/api/auth/login')
      .send({ username: ADMIN_EMAIL.toUpperCase(), password: 'x' })
      .expect(429);
    await request(t.url)
      .post('/api/auth/login')
      .send({ email: 'someone-else@test.example.org', password: 'x' })
      .expect(401);
  });

  it('limits the IP across accounts (refused attempts count too)', async () => {
    // 6 + 2 attempts so far from this IP, all counted; the IP limit is 8.
    const res = await request(t.url)
      .post('/api/auth/login')
      .send({ username: 'third@test.example.org', password: 'x' })
      .expect(429);
    expect(res.headers['retry-after']).toBeDefined();
  });

  it('counts 50 parallel wrong passwords atomically: at most the limit get through to the password check', async () => {
    const fresh = await startTestApp({ RATE_LIMIT_LOGIN: '5/15m', RATE_LIMIT_LOGIN_IP: 'off' });
    try {
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          request(fresh.url).post('/api/auth/login').send({ username: ADMIN_EMAIL, password: 'Wrong-Pass-123' }),
        ),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 401)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(45);
    } finally {
      await fresh.close();
    }
  });
});
