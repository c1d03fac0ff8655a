import request from 'supertest';
import { api, PASSWORD, sameTime } from '../support/api';
import { startTestApp, TestApp } from '../support/harness';

const basic = (key: string, token: string) => `Basic ${Buffer.from(`${key}:${token}`).toString('base64')}`;
type Pair = { role: string; key: string; token: string; refresh: string; expires: string };

describe('key:token surface', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await api(t).adminToken();
    await request(t.url)
      .post('/api/clients')
      .set('Authorization', `Bearer ${admin}`)
      .send({ id: 'ios', name: 'iOS app' })
      .expect(201);
  });
  afterAll(() => t.close());

  const signUp = (email: string, client = 'web', extra: Record<string, unknown> = {}) =>
    request(t.url)
      .post('/users')
      .send({ client, email, password: PASSWORD, ...extra });
  const logIn = (email: string, password = PASSWORD, client = 'web') =>
    request(t.url).post('/users/token').send({ client, email, password });

  describe('POST /users', () => {
    it('signs up with the default role whatever the body says, and returns a working pair', async () => {
      const res = await signUp('kt@test.example.org', 'web', { role: 'admin' }).expect(201);
      expect(res.body).toEqual({
        role: 'viewer',
        key: expect.stringMatching(/^kt_[A-Za-z0-9_-]+$/),
        token: expect.any(String),
        refresh: expect.any(String),
        expires: expect.any(String),
      });
      expect(res.body.key).not.toContain(':');
      const ttl = new Date(res.body.expires).getTime() - Date.now();
      expect(ttl).toBeGreaterThan(14 * 86400_000 - 60_000);
      expect(ttl).toBeLessThanOrEqual(14 * 86400_000);
      const me = await request(t.url)
        .get('/users')
        .set('Authorization', basic(res.body.key, res.body.token))
        .expect(200);
      expect(me.body).toMatchObject({ email: 'kt@test.example.org', role: 'viewer' });
      const [row] = await t.db.query(`SELECT token_hash, refresh_hash FROM key_tokens WHERE key = $1`, [res.body.key]);
      expect(row.token_hash).not.toBe(res.body.token);
      expect(row.refresh_hash).not.toBe(res.body.refresh);
    });

    it('answers a taken email, an unknown client and a weak password in the key-token dialect', async () => {
      expect((await signUp('KT@test.example.org').expect(409)).body).toEqual({
        errors: ['That email is already in use'],
      });
      expect((await signUp('new@test.example.org', 'nope').expect(400)).body).toEqual({
        errors: ['Invalid client ID'],
      });
      const weak = await request(t.url)
        .post('/users')
        .send({ client: 'web', email: 'weak@test.example.org', password: 'short' })
        .expect(400);
      expect(weak.body.errors[0]).toMatch(/^password: Password must be at least 8 characters long/);
      const bad = await request(t.url).post('/users').send({ client: 'web', email: 'nope' }).expect(400);
      expect(bad.body.errors).toEqual(
        expect.arrayContaining(['email: email must be a valid email address', 'password: password is required']),
      );
    });
  });

  describe('POST /users/token', () => {
    it('logs in with a new pair (200)', async () => {
      const res = await logIn('kt@test.example.org').expect(200);
      expect(Object.keys(res.body).sort()).toEqual(['expires', 'key', 'refresh', 'role', 'token']);
      await request(t.url).get('/users').set('Authorization', basic(res.body.key, res.body.token)).expect(200);
    });

    it('answers a wrong password and an unknown email identically (400), in about the same time', async () => {
      const wrong = await logIn('kt@test.example.org', 'Wrong-Pass-123').expect(400);
      const unknown = await logIn('ghost@test.example.org', 'Wrong-Pass-123').expect(400);
      expect(wrong.body).toEqual({ errors: ['Email or password incorrect'] });
      expect(unknown.body).toEqual(wrong.body);
      expect(
        await sameTime(
          () => logIn('kt@test.example.org', 'Wrong-Pass-123'),
          (i) => logIn(`ghost${i}@test.example.org`, 'Wrong-Pass-123'),
          { pairs: 10, low: 0.75, high: 1.33 },
        ),
      ).toBe('the same time');
    });

    it('accepts a username in the email field, like every login field', async () => {
      await t.db.query(`UPDATE users SET username = 'kt.user' WHERE email = 'kt@test.example.org'`);
      await logIn('kt.user').expect(200);
    });

    it('ends the existing pairs of a client that is deactivated', async () => {
      const pair = (await logIn('kt@test.example.org', PASSWORD, 'ios').expect(200)).body as Pair;
      await request(t.url).get('/users').set('Authorization', basic(pair.key, pair.token)).expect(200);
      await request(t.url)
        .patch('/api/clients/ios')
        .set('Authorization', `Bearer ${admin}`)
        .send({ active: false })
        .expect(200);
      await new Promise((r) => setTimeout(r, 1100)); // the verified-pair cache lives one second
      await request(t.url).get('/users').set('Authorization', basic(pair.key, pair.token)).expect(401);
      await request(t.url)
        .patch('/api/clients/ios')
        .set('Authorization', `Bearer ${admin}`)
        .send({ active: true })
        .expect(200);
    });

    it('refuses an unknown or inactive client', async () => {
      expect((await logIn('kt@test.example.org', PASSWORD, 'nope').expect(400)).body).toEqual({
        errors: ['Invalid client ID'],
      });
      await request(t.url)
        .patch('/api/clients/ios')
        .set('Authorization', `Bearer ${admin}`)
        .send({ active: false })
        .expect(200);
      await logIn('kt@test.example.org', PASSWORD, 'ios').expect(400);
      await request(t.url)
        .patch('/api/clients/ios')
        .set('Authorization', `Bearer ${admin}`)
        .send({ active: true })
        .expect(200);
      await logIn('kt@test.example.org', PASSWORD, 'ios').expect(200);
    });
  });

  describe('the Basic check', () => {
    let pair: Pair;
    beforeAll(async () => {
      pair = (await logIn('kt@test.example.org').expect(200)).body;
    });

    it('opens every other protected route too (GET /api/auth/me)', async () => {
      await request(t.url).get('/api/auth/me').set('Authorization', basic(pair.key, pair.token)).expect(200);
    });

    it.each([
      ['no colon', `Basic ${Buffer.from('justakey').toString('base64')}`],
      ['bad Base64', 'Basic %%%not-base64%%%'],
      ['empty key', `Basic ${Buffer.from(':token').toString('base64')}`],
      ['empty token', `Basic ${Buffer.from('kt_abc:').toString('base64')}`],
      ['no credentials', 'Basic'],
      ['over-long values', `Basic ${Buffer.from(`kt_${'a'.repeat(5000)}:${'b'.repeat(5000)}`).toString('base64')}`],
      ['non-UTF-8', `Basic ${Buffer.from([0x6b, 0x74, 0x5f, 0xff, 0xfe, 0x3a, 0xc3, 0x28]).toString('base64')}`],
      ['a wrong token', `Basic ${Buffer.from('kt_unknown:whatever').toString('base64')}`],
    ])('answers %s with 401 and a Basic challenge', async (_name, header) => {
      const res = await request(t.url).get('/users').set('Authorization', header).expect(401);
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm="identity"/);
      expect(res.body.errors[0]).toBe('You must be logged in to access this area');
    });

    it('refuses the right key with another token, and an expired pair (told apart)', async () => {
      await request(t.url)
        .get('/users')
        .set('Authorization', basic(pair.key, pair.token + 'x'))
        .expect(401);
      const other = (await logIn('kt@test.example.org').expect(200)).body as Pair;
      await t.db.query(`UPDATE key_tokens SET expires_at = now() - interval '1 second' WHERE key = $1`, [other.key]);
      const res = await request(t.url).get('/users').set('Authorization', basic(other.key, other.token)).expect(401);
      expect(res.body.errors).toEqual([
        'You must be logged in to access this area',
        'Token has expired; refresh it or log in again',
      ]);
    });
  });

  describe('PATCH /users', () => {
    it('changes the email once the link mailed to the new address is opened, and the password with the current one', async () => {
      const pair = (await signUp('patch@test.example.org').expect(201)).body as Pair;
      const auth = basic(pair.key, pair.token);
      const res = await request(t.url)
        .patch('/users')
        .set('Authorization', auth)
        .send({ email: 'patched@test.example.org', role: 'admin' })
        .expect(200);
      // API.md 12: the change waits for the link to the new address.
      expect(res.body).toMatchObject({
        email: 'patch@test.example.org',
        pending_email: 'patched@test.example.org',
        role: 'viewer',
      });
      const mail = await t.smtp.waitFor(
        'patched@test.example.org',
        (m) => m.subject === 'Confirm your new email address',
      );
      const token = /token=([A-Za-z0-9_-]{43})/.exec(mail.text)![1];
      await request(t.url).get(`/api/auth/email/confirm?token=${token}`).expect(200);
      const me = await request(t.url).get('/users').set('Authorization', auth).expect(200);
      expect(me.body).toMatchObject({ email: 'patched@test.example.org', email_verified: true, role: 'viewer' });
      await request(t.url)
        .patch('/users')
        .set('Authorization', auth)
        .send({ password: 'New-Quartz-Meadow-77', current_password: PASSWORD })
        .expect(200);
      await logIn('patched@test.example.org', 'New-Quartz-Meadow-77').expect(200);
      await logIn('patched@test.example.org', PASSWORD).expect(400);
    });

    it('refuses a taken email (409), a weak password (400) and no credentials (401)', async () => {
      const pair = (await logIn('patched@test.example.org', 'New-Quartz-Meadow-77').expect(200)).body as Pair;
      const auth = basic(pair.key, pair.token);
      expect(
        (
          await request(t.url)
            .patch('/users')
            .set('Authorization', auth)
            .send({ email: 'KT@test.example.org' })
            .expect(409)
        ).body,
      ).toEqual({
        errors: ['That email is already taken'],
      });
      const weak = await request(t.url)
        .patch('/users')
        .set('Authorization', auth)
        .send({ password: 'password', current_password: 'New-Quartz-Meadow-77' })
        .expect(400);
      expect(weak.body.errors[0]).toMatch(/upper-case/);
      const none = await request(t.url).patch('/users').send({ email: 'x@test.example.org' }).expect(401);
      expect(none.body).toEqual({ errors: ['You must be logged in to access this area', 'Authentication required'] });
      expect(none.headers['www-authenticate']).toMatch(/^Basic/);
    });

    it('refuses null for the email or the password (400) and changes nothing', async () => {
      const pair = (await logIn('patched@test.example.org', 'New-Quartz-Meadow-77').expect(200)).body as Pair;
      const auth = basic(pair.key, pair.token);
      for (const body of [{ email: null }, { password: null }]) {
        const res = await request(t.url).patch('/users').set('Authorization', auth).send(body).expect(400);
        expect(res.body.errors.length).toBeGreaterThan(0);
      }
      const me = await request(t.url).get('/users').set('Authorization', auth).expect(200);
      expect(me.body.email).toBe('patched@test.example.org');
      await logIn('patched@test.example.org', 'New-Quartz-Meadow-77').expect(200);
    });
  });

  describe('POST /users/token/refresh', () => {
    it('replaces key, token and refresh; the old pair stops working at once', async () => {
      const old = (await logIn('kt@test.example.org').expect(200)).body as Pair;
      await request(t.url).get('/users').set('Authorization', basic(old.key, old.token)).expect(200);
      const res = await request(t.url)
        .post('/users/token/refresh')
        .send({ client: 'web', key: old.key, refresh: old.refresh })
        .expect(200);
      expect(Object.keys(res.body).sort()).toEqual(['expires', 'key', 'refresh', 'token']);
      expect(res.body.key).not.toBe(old.key);
      await request(t.url).get('/users').set('Authorization', basic(old.key, old.token)).expect(401);
      await request(t.url).get('/users').set('Authorization', basic(res.body.key, res.body.token)).expect(200);
    });

    it('revokes the whole family when a used refresh token comes back', async () => {
      const first = (await logIn('kt@test.example.org').expect(200)).body as Pair;
      const second = (
        await request(t.url)
          .post('/users/token/refresh')
          .send({ client: 'web', key: first.key, refresh: first.refresh })
          .expect(200)
      ).body as Pair;
      const third = (
        await request(t.url)
          .post('/users/token/refresh')
          .send({ client: 'web', key: second.key, refresh: second.refresh })
          .expect(200)
      ).body as Pair;
      await request(t.url).get('/users').set('Authorization', basic(third.key, third.token)).expect(200);
      const replay = await request(t.url)
        .post('/users/token/refresh')
        .send({ client: 'web', key: first.key, refresh: first.refresh })
        .expect(400);
      expect(replay.body).toEqual({ errors: ['Invalid refresh token'] });
      await request(t.url).get('/users').set('Authorization', basic(third.key, third.token)).expect(401);
      await request(t.url)
        .post('/users/token/refresh')
        .send({ client: 'web', key: third.key, refresh: third.refresh })
        .expect(400);
    });

    it("refuses a refresh for another key or another client's credential", async () => {
      const a = (await logIn('kt@test.example.org').expect(200)).body as Pair;
      const b = (await logIn('kt@test.example.org').expect(200)).body as Pair;
      await request(t.url)
        .post('/users/token/refresh')
        .send({ client: 'web', key: b.key, refresh: a.refresh })
        .expect(400);
      await request(t.url)
        .post('/users/token/refresh')
        .send({ client: 'ios', key: a.key, refresh: a.refresh })
        .expect(400);
      await request(t.url)
        .post('/users/token/refresh')
        .send({ client: 'nope', key: a.key, refresh: a.refresh })
        .expect(400);
      // Nothing was used up by those attempts.
      await request(t.url)
        .post('/users/token/refresh')
        .send({ client: 'web', key: a.key, refresh: a.refresh })
        .expect(200);
      await request(t.url).post('/users/token/refresh').send({ client: 'web' }).expect(400);
    });
  });

  describe('DELETE /users/token', () => {
    it('revokes the pair that made the request (204), which is refused at once', async () => {
      const pair = (await logIn('kt@test.example.org').expect(200)).body as Pair;
      const other = (await logIn('kt@test.example.org').expect(200)).body as Pair;
      const auth = basic(pair.key, pair.token);
      await request(t.url).get('/users').set('Authorization', auth).expect(200);
      await request(t.url).delete('/users/token').set('Authorization', auth).send({ client: 'ios' }).expect(400);
      await request(t.url).delete('/users/token').set('Authorization', auth).send({ client: 'web' }).expect(204);
      await request(t.url).get('/users').set('Authorization', auth).expect(401);
      await request(t.url).delete('/users/token').set('Authorization', auth).send({ client: 'web' }).expect(401);
      await request(t.url)
        .post('/users/token/refresh')
        .send({ client: 'web', key: pair.key, refresh: pair.refresh })
        .expect(400);
      await request(t.url).get('/users').set('Authorization', basic(other.key, other.token)).expect(200);
    });

    it('takes only Basic credentials', async () => {
      await request(t.url)
        .delete('/users/token')
        .set('Authorization', `Bearer ${admin}`)
        .send({ client: 'web' })
        .expect(401);
    });
  });

  describe('/api/clients (admin)', () => {
    it('lists, creates and updates clients; the default client exists from the start', async () => {
      const list = await request(t.url).get('/api/clients').set('Authorization', `Bearer ${admin}`).expect(200);
      expect(list.body.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining(['web', 'ios']));
      await request(t.url)
        .post('/api/clients')
        .set('Authorization', `Bearer ${admin}`)
        .send({ id: 'ios', name: 'again' })
        .expect(409);
      await request(t.url)
        .post('/api/clients')
        .set('Authorization', `Bearer ${admin}`)
        .send({ id: 'bad id', name: 'x' })
        .expect(400);
      const short = await request(t.url)
        .post('/api/clients')
        .set('Authorization', `Bearer ${admin}`)
        .send({ id: 'kiosk', name: 'Kiosk', token_ttl_seconds: 3600 })
        .expect(201);
      expect(short.body).toMatchObject({ id: 'kiosk', active: true, token_ttl_seconds: 3600 });
      const pair = (await logIn('kt@test.example.org', PASSWORD, 'kiosk').expect(200)).body as Pair;
      expect(new Date(pair.expires).getTime() - Date.now()).toBeLessThanOrEqual(3600_000);
      await request(t.url)
        .patch('/api/clients/none')
        .set('Authorization', `Bearer ${admin}`)
        .send({ active: false })
        .expect(404);
      const viewer = (await logIn('kt@test.example.org').expect(200)).body as Pair;
      await request(t.url).get('/api/clients').set('Authorization', basic(viewer.key, viewer.token)).expect(403);
    });
  });
});

describe('key:token rate limits', () => {
  it('limits log-ins (5 per 15 minutes per account) and sign-ups (3 per hour)', async () => {
    const t = await startTestApp({ RATE_LIMIT_LOGIN: '5/15m', RATE_LIMIT_REGISTER: '3/1h' });
    try {
      for (let i = 0; i < 5; i++)
        await request(t.url)
          .post('/users/token')
          .send({ client: 'web', email: 'a@test.example.org', password: 'x' })
          .expect(400);
      const limited = await request(t.url)
        .post('/users/token')
        .send({ client: 'web', email: 'a@test.example.org', password: 'x' })
        .expect(429);
      expect(limited.body).toEqual({ errors: ['Too many requests, try again later'] });
      expect(limited.headers['retry-after']).toBeDefined();
      for (let i = 0; i < 3; i++)
        await request(t.url)
          .post('/users')
          .send({ client: 'web', email: `s${i}@test.example.org`, password: PASSWORD })
          .expect(201);
      await request(t.url)
        .post('/users')
        .send({ client: 'web', email: 's4@test.example.org', password: PASSWORD })
        .expect(429);
    } finally {
      await t.close();
    }
  });
});
