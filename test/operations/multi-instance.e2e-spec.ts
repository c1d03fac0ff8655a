import { Secret, TOTP } from 'otpauth';
import request from 'supertest';
import { api, PASSWORD } from '../support/api';
import { startTestApp, TestApp } from '../support/harness';
import { describeWithRedis, startRedis } from '../support/redis-server';

const kidOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { kid?: string }).kid;
const jwksKids = async (t: TestApp) =>
  ((await request(t.url).get('/.well-known/jwks.json').expect(200)).body.keys as { kid: string }[]).map((k) => k.kid);

/** Polls until `probe` answers `status`, and says how long that took. */
async function timeUntil(probe: () => Promise<number>, status: number, timeoutMs = 3000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if ((await probe()) === status) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`still not ${status} after ${timeoutMs} ms`);
}

function instancePair(env: () => Record<string, string>) {
  const ctx = {} as { a: TestApp; b: TestApp };
  beforeAll(async () => {
    ctx.a = await startTestApp(env());
    ctx.b = await startTestApp({ ...env(), KEEP_DATABASE: '1' });
  });
  afterAll(async () => {
    await ctx.a?.close();
    await ctx.b?.close();
  });
  return ctx;
}

describeWithRedis('several instances sharing PostgreSQL and Redis', () => {
  // The admin signs in once: this suite runs with the real login limit (5 per account).
  let adminToken: string | undefined;
  const apiA = () => {
    const h = api(ctx.a);
    const cached = async () => (adminToken ??= await h.adminToken());
    return {
      ...h,
      adminToken: cached,
      createUser: async (email: string, role: string) => h.createUser(email, role, PASSWORD, await cached()),
    };
  };
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());
  const ctx = instancePair(() => ({ REDIS_URL: redis.url, RATE_LIMIT_LOGIN: '5/15m' }));

  it('counts login attempts across instances: the 6th, wherever it lands, is 429', async () => {
    const attempt = (t: TestApp) =>
      request(t.url).post('/api/auth/login').send({ username: 'target@test.example.org', password: 'Wrong-Pass-1' });
    const statuses = [];
    for (const t of [ctx.a, ctx.b, ctx.a, ctx.b, ctx.a]) statuses.push((await attempt(t)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const sixth = await attempt(ctx.b);
    expect(sixth.status).toBe(429);
    expect(sixth.headers['retry-after']).toBeDefined();
  });

  it('counts an account once across instances, by email on one and by username on the other', async () => {
    await request(ctx.a.url)
      .post('/api/auth/register')
      .set('Authorization', `Bearer ${await apiA().adminToken()}`)
      .send({ email: 'shared-count@test.example.org', username: 'shared.count', role: 'viewer', password: PASSWORD })
      .expect(201);
    for (const t of [ctx.a, ctx.b, ctx.a, ctx.b, ctx.a]) {
      await request(t.url)
        .post('/api/auth/login')
        .send({ username: 'shared-count@test.example.org', password: 'Wrong-Pass-1' })
        .expect(401);
    }
    await request(ctx.b.url).post('/api/auth/login').send({ username: 'shared.count', password: PASSWORD }).expect(429);
  });

  it('counts wrong second-factor codes per account across instances: the 11th verification is 429 on both', async () => {
    const h = apiA();
    await h.createUser('mfa-shared@test.example.org', 'viewer');
    const token = (await h.login('mfa-shared@test.example.org', PASSWORD)).access_token;
    const enrolment = await request(ctx.a.url).post('/api/auth/mfa/totp').set(h.bearer(token)).send({}).expect(201);
    const totp = new TOTP({ secret: Secret.fromBase32(enrolment.body.secret as string) });
    await request(ctx.a.url)
      .post(`/api/auth/mfa/factors/${enrolment.body.factor_id}/confirm`)
      .set(h.bearer(token))
      .send({ code: totp.generate() })
      .expect(200);
    const firstStep = async (t: TestApp) =>
      (
        await request(t.url)
          .post('/api/auth/login')
          .send({ username: 'mfa-shared@test.example.org', password: PASSWORD })
          .expect(401)
      ).body.error.details.mfa_token as string;
    for (const t of [ctx.a, ctx.b]) {
      const mfaToken = await firstStep(t);
      for (const u of [ctx.a, ctx.b, ctx.a, ctx.b, ctx.a]) {
        await request(u.url).post('/api/auth/mfa/verify').send({ mfa_token: mfaToken, code: '000000' }).expect(401);
      }
    }
    const mfaToken = await firstStep(ctx.b);
    const right = totp.generate({ timestamp: Date.now() + 30_000 });
    for (const t of [ctx.a, ctx.b]) {
      const locked = await request(t.url).post('/api/auth/mfa/verify').send({ mfa_token: mfaToken, code: right });
      expect(locked.status).toBe(429);
    }
  });

  it('honours a logout made on one instance on the other within a second', async () => {
    const h = apiA();
    await h.createUser('multi@test.example.org', 'researcher');
    const s = await h.login('multi@test.example.org', PASSWORD);
    await request(ctx.b.url).get('/api/auth/me').set(h.bearer(s.access_token)).expect(200);
    await request(ctx.a.url).post('/api/auth/logout').set(h.bearer(s.access_token)).expect(204);
    const ms = await timeUntil(
      async () => (await request(ctx.b.url).get('/api/auth/me').set(h.bearer(s.access_token))).status,
      401,
    );
    expect(ms).toBeLessThan(1000);
  });

  it('honours a role change made on one instance on the other within a second', async () => {
    const h = apiA();
    const u = await h.createUser('multi-role@test.example.org', 'researcher');
    const s = await h.login('multi-role@test.example.org', PASSWORD);
    await request(ctx.b.url).get('/api/studies').set(h.bearer(s.access_token)).expect(200);
    await request(ctx.a.url)
      .patch(`/api/users/${u.id}/role`)
      .set(h.bearer(await h.adminToken()))
      .send({ role: 'viewer' })
      .expect(200);
    const ms = await timeUntil(
      async () => (await request(ctx.b.url).get('/api/studies').set(h.bearer(s.access_token))).status,
      401,
    );
    expect(ms).toBeLessThan(1000);
  });

  it('refuses on the other instance, within a second, an API key deleted on one', async () => {
    const h = apiA();
    await h.createUser('multi-key@test.example.org', 'researcher');
    const owner = (await h.login('multi-key@test.example.org', PASSWORD)).access_token;
    const key = (await request(ctx.a.url).post('/api/api-keys').set(h.bearer(owner)).send({ name: 'k' }).expect(201))
      .body;
    await request(ctx.b.url).get('/api/auth/me').set('X-API-Key', key.key).expect(200);
    await request(ctx.a.url).delete(`/api/api-keys/${key.id}`).set(h.bearer(owner)).expect(204);
    const ms = await timeUntil(
      async () => (await request(ctx.b.url).get('/api/auth/me').set('X-API-Key', key.key)).status,
      401,
    );
    expect(ms).toBeLessThan(1000);
  });

  it('refuses on the other instance, within a second, a key:token pair logged out on one', async () => {
    const pair = (
      await request(ctx.a.url)
        .post('/users')
        .send({ client: 'web', email: 'multi-kt@test.example.org', password: PASSWORD })
        .expect(201)
    ).body as { key: string; token: string };
    const auth = `Basic ${Buffer.from(`${pair.key}:${pair.token}`).toString('base64')}`;
    await request(ctx.b.url).get('/users').set('Authorization', auth).expect(200);
    await request(ctx.a.url).delete('/users/token').set('Authorization', auth).send({ client: 'web' }).expect(204);
    const ms = await timeUntil(
      async () => (await request(ctx.b.url).get('/users').set('Authorization', auth)).status,
      401,
    );
    expect(ms).toBeLessThan(1000);
  });

  it('refuses on the other instance, within a second, an IAM token deleted on one', async () => {
    const h = apiA();
    await h.createUser('multi-iam@test.example.org', 'researcher');
    const login = await request(ctx.a.url)
      .post('/v1/auth/token/')
      .send({ username: 'multi-iam@test.example.org', password: PASSWORD })
      .expect(200);
    const key = login.body.token.key as string;
    await request(ctx.b.url).get('/v1/whoami/').set('Authorization', `Token ${key}`).expect(200);
    await request(ctx.a.url)
      .delete(`/v1/tokens/${login.body.token.id}/`)
      .set('Authorization', `Token ${key}`)
      .expect(204);
    const ms = await timeUntil(
      async () => (await request(ctx.b.url).get('/v1/whoami/').set('Authorization', `Token ${key}`)).status,
      401,
    );
    expect(ms).toBeLessThan(1000);
  });

  it('honours a password change with reset_tokens made on one instance on the other within a second', async () => {
    const h = apiA();
    await h.createUser('multi-reset@test.example.org', 'researcher');
    const jwt = (await h.login('multi-reset@test.example.org', PASSWORD)).access_token;
    const login = await request(ctx.a.url)
      .post('/v1/auth/token/')
      .send({ username: 'multi-reset@test.example.org', password: PASSWORD })
      .expect(200);
    await request(ctx.b.url).get('/api/auth/me').set(h.bearer(jwt)).expect(200);
    await request(ctx.a.url)
      .post('/v1/auth/password/change/')
      .set('Authorization', `Token ${login.body.token.key}`)
      .send({ old_password: PASSWORD, new_password: 'Fresh-Quartz-Meadow-42', reset_tokens: true })
      .expect(204);
    const ms = await timeUntil(
      async () => (await request(ctx.b.url).get('/api/auth/me').set(h.bearer(jwt))).status,
      401,
    );
    expect(ms).toBeLessThan(1000);
  });

  it('shows Redis as up on the detailed health page', async () => {
    const token = await apiA().adminToken();
    const res = await request(ctx.b.url)
      .get('/api/health/detailed')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(res.body.details.redis).toEqual({ status: 'up', configured: true });
  });
});

describe('several instances sharing PostgreSQL, without Redis', () => {
  const ctx = instancePair(() => ({}));

  it('honours a logout made on one instance on the other within a second (database poll)', async () => {
    const h = api(ctx.a);
    await h.createUser('poll@test.example.org', 'researcher');
    const s = await h.login('poll@test.example.org', PASSWORD);
    await request(ctx.b.url).get('/api/auth/me').set(h.bearer(s.access_token)).expect(200);
    await request(ctx.a.url).post('/api/auth/logout').set(h.bearer(s.access_token)).expect(204);
    const ms = await timeUntil(
      async () => (await request(ctx.b.url).get('/api/auth/me').set(h.bearer(s.access_token))).status,
      401,
    );
    expect(ms).toBeLessThan(1000);
  });
});

describeWithRedis('several instances signing with ES256 keys, sharing PostgreSQL and Redis', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());
  const ctx = instancePair(() => ({ REDIS_URL: redis.url, JWT_ALGORITHM: 'ES256', JWT_KEY_PUBLISH_AHEAD: '1s' }));

  it('starts both on one key, and after a rotation on one both sign with the new kid and verify each other', async () => {
    const h = api(ctx.a);
    const admin = await h.adminToken();
    await h.createUser('multi-es256@test.example.org', 'researcher');
    const login = async (t: TestApp) => (await api(t).login('multi-es256@test.example.org', PASSWORD)).access_token;
    const [oldA, oldB] = await Promise.all([login(ctx.a), login(ctx.b)]);
    expect(kidOf(oldA)).toBeDefined();
    expect(kidOf(oldB)).toBe(kidOf(oldA));
    expect(await jwksKids(ctx.b)).toEqual(await jwksKids(ctx.a));

    const rotated = (await request(ctx.a.url).post('/api/admin/signing-keys/rotate').set(h.bearer(admin)).expect(201))
      .body.key as { kid: string; activate_at: string };
    // The other instance hears of it through Redis, well before the new key signs.
    const ms = await timeUntil(async () => ((await jwksKids(ctx.b)).includes(rotated.kid) ? 200 : 0), 200);
    expect(ms).toBeLessThan(1000);

    await new Promise((r) => setTimeout(r, Date.parse(rotated.activate_at) - Date.now() + 50));
    const [newA, newB] = await Promise.all([login(ctx.a), login(ctx.b)]);
    expect([kidOf(newA), kidOf(newB)]).toEqual([rotated.kid, rotated.kid]);
    for (const t of [ctx.a, ctx.b]) {
      for (const token of [newA, newB, oldA, oldB]) {
        await request(t.url).get('/api/auth/me').set(h.bearer(token)).expect(200);
      }
    }
  });
});

describe('several instances with ES256 and a short JWT_KEY_ROTATION, without Redis', () => {
  const ROTATION_MS = 2000;
  const ctx = instancePair(() => ({
    JWT_ALGORITHM: 'ES256',
    JWT_KEY_ROTATION: `${ROTATION_MS}ms`,
    JWT_KEY_PUBLISH_AHEAD: '200ms',
  }));

  it('rotates on schedule once per period, whichever instance gets the lock, and both verify every key', async () => {
    await new Promise((r) => setTimeout(r, 3 * ROTATION_MS + 1500));
    const rows: { kid: string; activate_at: Date }[] = await ctx.a.db.query(
      `SELECT kid, activate_at FROM signing_keys ORDER BY activate_at`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(3);
    // Two instances checking on their own timers, yet no period got two keys.
    for (let i = 1; i < rows.length; i++) {
      expect(rows[i].activate_at.getTime() - rows[i - 1].activate_at.getTime()).toBeGreaterThanOrEqual(ROTATION_MS);
    }
    const h = api(ctx.a);
    await h.createUser('multi-rotation@test.example.org', 'researcher');
    const token = (await api(ctx.b).login('multi-rotation@test.example.org', PASSWORD)).access_token;
    await request(ctx.a.url).get('/api/auth/me').set(h.bearer(token)).expect(200);
  });
});
