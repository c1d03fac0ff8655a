import request from 'supertest';
import { api, PASSWORD } from '../support/api';
import { startTestApp, TestApp } from '../support/harness';

type Token = {
  id: number;
  key: string;
  is_active: boolean;
  permanent: boolean;
  space_id: number | null;
  created: string;
  expires: string | null;
};

describe('IAM surface', () => {
  let t: TestApp;
  let h: ReturnType<typeof api>;
  const auth = (key: string) => ({ Authorization: `Token ${key}` });
  const login = async (username = 'usr', password = PASSWORD) =>
    (await request(t.url).post('/v1/auth/token/').send({ username, password }).expect(200)).body as {
      user: { username: string };
      token: Token;
    };

  beforeAll(async () => {
    t = await startTestApp();
    h = api(t);
    const admin = await h.adminToken();
    await request(t.url)
      .post('/api/auth/register')
      .set(h.bearer(admin))
      .send({ email: 'usr@test.example.org', username: 'usr', password: PASSWORD, role: 'researcher' })
      .expect(201);
    await request(t.url)
      .post('/api/auth/register')
      .set(h.bearer(admin))
      .send({ email: 'other@test.example.org', username: 'other', password: PASSWORD, role: 'researcher' })
      .expect(201);
  });
  afterAll(() => t.close());

  describe('POST /v1/auth/token/', () => {
    it('logs in by username or email with a temporary 24-hour token, in the documented shape', async () => {
      const res = await request(t.url)
        .post('/v1/auth/token/')
        .send({ username: 'usr', password: PASSWORD })
        .expect(200);
      expect(res.body).toEqual({
        user: { username: 'usr' },
        token: {
          id: expect.any(Number),
          key: expect.stringMatching(/^tk_/),
          is_active: true,
          created: expect.any(String),
          expires: expect.any(String),
        },
      });
      expect(new Date(res.body.token.expires).getTime() - new Date(res.body.token.created).getTime()).toBe(86400_000);
      await request(t.url)
        .post('/v1/auth/token')
        .send({ username: 'USR@test.example.org', password: PASSWORD })
        .expect(200);
      await request(t.url).get('/v1/whoami/').set(auth(res.body.token.key)).expect(200);
    });

    it('answers a wrong pair with 401, code 602 and the documented message', async () => {
      const res = await request(t.url)
        .post('/v1/auth/token/')
        .send({ username: 'usr', password: 'Wrong-Pass-123' })
        .expect(401);
      expect(res.body).toEqual({ error_codes: [602], message: 'Username and password do not match.', fields: [] });
      const unknown = await request(t.url)
        .post('/v1/auth/token/')
        .send({ username: 'nobody', password: 'Wrong-Pass-123' })
        .expect(401);
      expect(unknown.body).toEqual(res.body);
    });

    it('names missing fields', async () => {
      const res = await request(t.url).post('/v1/auth/token/').send({}).expect(400);
      expect(res.body).toEqual({
        error_codes: [400],
        message: 'Validation error.',
        fields: expect.arrayContaining([
          { name: 'username', message: 'This field is required.', error_code: 400 },
          { name: 'password', message: 'This field is required.', error_code: 400 },
        ]),
      });
    });
  });

  describe('tokens', () => {
    it('creates a permanent token (key shown once), lists newest first with the key masked, gets it by id and by key', async () => {
      const { token: temp } = await login();
      const created = await request(t.url)
        .post('/v1/tokens/')
        .set(auth(temp.key))
        .send({ permanent: true })
        .expect(201);
      expect(created.body).toMatchObject({ permanent: true, is_active: true, expires: null, space_id: null });
      expect(created.body.key).toMatch(/^tk_[A-Za-z0-9_-]{43}$/);
      const list = await request(t.url).get('/v1/tokens/').set(auth(temp.key)).expect(200);
      expect(Array.isArray(list.body)).toBe(true);
      expect(list.body[0].id).toBe(created.body.id);
      expect(list.body[0].key).toBe(`${created.body.key.slice(0, 11)}…`);
      const byId = await request(t.url).get(`/v1/tokens/${created.body.id}/`).set(auth(temp.key)).expect(200);
      const byKey = await request(t.url).get(`/v1/tokens/${created.body.key}`).set(auth(temp.key)).expect(200);
      expect(byKey.body).toEqual(byId.body);
      await request(t.url).get('/v1/whoami').set(auth(created.body.key)).expect(200);
      const [row] = await t.db.query(`SELECT key_hash FROM iam_tokens WHERE id = $1`, [created.body.id]);
      expect(row.key_hash).not.toContain(created.body.key);
    });

    it('filters by permanent, and paginates with limit and offset', async () => {
      const { token } = await login();
      const perm = await request(t.url).get('/v1/tokens/?permanent=true').set(auth(token.key)).expect(200);
      expect(perm.body.every((x: Token) => x.permanent)).toBe(true);
      const temp = await request(t.url).get('/v1/tokens?permanent=false').set(auth(token.key)).expect(200);
      expect(temp.body.every((x: Token) => !x.permanent)).toBe(true);
      const all = await request(t.url).get('/v1/tokens/').set(auth(token.key)).expect(200);
      const page = await request(t.url).get('/v1/tokens/?limit=2&offset=1').set(auth(token.key)).expect(200);
      expect(page.body.map((x: Token) => x.id)).toEqual(all.body.slice(1, 3).map((x: Token) => x.id));
      const bad = await request(t.url).get('/v1/tokens/?limit=0').set(auth(token.key)).expect(400);
      expect(bad.body.fields[0].name).toBe('limit');
    });

    it('refuses the 6th permanent token with a clear error', async () => {
      const { token } = await login();
      const [{ n }] = await t.db.query(
        `SELECT count(*)::int AS n FROM iam_tokens t JOIN users u ON u.id = t.user_id WHERE u.username = 'usr' AND permanent`,
      );
      for (let i = n; i < 5; i++)
        await request(t.url).post('/v1/tokens/').set(auth(token.key)).send({ permanent: true }).expect(201);
      const sixth = await request(t.url).post('/v1/tokens/').set(auth(token.key)).send({ permanent: true }).expect(400);
      expect(sixth.body).toEqual({
        error_codes: [400],
        message: 'Validation error.',
        fields: [
          {
            name: 'permanent',
            message: 'At most 5 permanent tokens are allowed per user; delete one first.',
            error_code: 400,
          },
        ],
      });
      await request(t.url).post('/v1/tokens/').set(auth(token.key)).send({ permanent: false }).expect(201);
    });

    it('deactivates with PATCH (form or JSON) and PUT: refused at once, and back again', async () => {
      const { token: me } = await login();
      const target = (await request(t.url).post('/v1/tokens/').set(auth(me.key)).send({}).expect(201)).body as Token;
      await request(t.url).get('/v1/whoami/').set(auth(target.key)).expect(200);
      const off = await request(t.url)
        .patch(`/v1/tokens/${target.id}/`)
        .set(auth(me.key))
        .type('form')
        .send({ is_active: 'false' })
        .expect(200);
      expect(off.body.is_active).toBe(false);
      const refused = await request(t.url).get('/v1/whoami/').set(auth(target.key)).expect(401);
      expect(refused.body).toEqual({ error_codes: [401], message: 'Token is inactive.', fields: [] });
      await request(t.url).put(`/v1/tokens/${target.id}`).set(auth(me.key)).send({ is_active: true }).expect(200);
      await request(t.url).get('/v1/whoami/').set(auth(target.key)).expect(200);
      await request(t.url).patch(`/v1/tokens/${target.id}/`).set(auth(me.key)).send({ is_active: false }).expect(200);
      await request(t.url).get('/v1/whoami/').set(auth(target.key)).expect(401);
      await request(t.url)
        .patch(`/v1/tokens/${target.id}/`)
        .set(auth(me.key))
        .send({ is_active: 'perhaps' })
        .expect(400);
    });

    it("deletes a token (204), refused at once; another user's token is 404", async () => {
      const { token: me } = await login();
      const { token: theirs } = await login('other');
      const target = (await request(t.url).post('/v1/tokens/').set(auth(me.key)).send({}).expect(201)).body as Token;
      await request(t.url).get(`/v1/tokens/${target.id}/`).set(auth(theirs.key)).expect(404);
      await request(t.url)
        .patch(`/v1/tokens/${target.id}/`)
        .set(auth(theirs.key))
        .send({ is_active: false })
        .expect(404);
      await request(t.url).delete(`/v1/tokens/${target.id}/`).set(auth(theirs.key)).expect(404);
      await request(t.url).get(`/v1/tokens/${target.key}/`).set(auth(theirs.key)).expect(404);
      await request(t.url).delete(`/v1/tokens/${target.id}/`).set(auth(me.key)).expect(204);
      await request(t.url).get('/v1/whoami/').set(auth(target.key)).expect(401);
      await request(t.url).get(`/v1/tokens/${target.id}/`).set(auth(me.key)).expect(404);
      const missing = await request(t.url).get('/v1/tokens/999999/').set(auth(me.key)).expect(404);
      expect(missing.body).toEqual({ error_codes: [404], message: 'Not found.', fields: [] });
    });

    it('deletes all matching tokens except the one in use', async () => {
      const { token: me } = await login();
      const temp = (await request(t.url).post('/v1/tokens/').set(auth(me.key)).send({}).expect(201)).body as Token;
      await request(t.url).delete('/v1/tokens/?permanent=true').set(auth(me.key)).expect(204);
      const left = (await request(t.url).get('/v1/tokens/').set(auth(me.key)).expect(200)).body as Token[];
      expect(left.every((x) => !x.permanent)).toBe(true);
      await request(t.url).get('/v1/whoami/').set(auth(temp.key)).expect(200);
      await request(t.url).delete('/v1/tokens/').set(auth(me.key)).expect(204);
      const only = (await request(t.url).get('/v1/tokens/').set(auth(me.key)).expect(200)).body as Token[];
      expect(only.map((x) => x.id)).toEqual([me.id]);
      await request(t.url).get('/v1/whoami/').set(auth(temp.key)).expect(401);
    });

    it('expires a temporary token; a permanent one does not expire', async () => {
      const { token } = await login();
      await t.db.query(
        `UPDATE iam_tokens SET expires_at = now() - interval '1 second', created_at = now() - interval '2 days' WHERE id = $1`,
        [token.id],
      );
      await new Promise((r) => setTimeout(r, 1100)); // the verified-token cache lives one second
      const res = await request(t.url).get('/v1/whoami/').set(auth(token.key)).expect(401);
      expect(res.body.message).toBe('Token has expired.');
      const { token: other } = await login();
      const permanent = (
        await request(t.url).post('/v1/tokens/').set(auth(other.key)).send({ permanent: 'true' }).expect(201)
      ).body as Token;
      await t.db.query(`UPDATE iam_tokens SET created_at = now() - interval '400 days' WHERE id = $1`, [permanent.id]);
      await new Promise((r) => setTimeout(r, 1100));
      await request(t.url).get('/v1/whoami/').set(auth(permanent.key)).expect(200);
      await request(t.url).get('/v1/whoami/').set({ Authorization: 'Token tk_unknown' }).expect(401);
      await request(t.url).get('/v1/whoami/').set({ Authorization: 'Token' }).expect(401);
    });
  });

  describe('spaces', () => {
    it('creates, lists with search and pagination, gets, renames and deletes (202) spaces', async () => {
      const { token } = await login();
      const a = (await request(t.url).post('/v1/spaces/').set(auth(token.key)).send({ name: 'Front door' }).expect(201))
        .body;
      expect(a).toEqual({ id: expect.any(Number), name: 'Front door', created: expect.any(String) });
      await request(t.url).post('/v1/spaces').set(auth(token.key)).send({ name: 'Back door' }).expect(201);
      await request(t.url).post('/v1/spaces/').set(auth(token.key)).send({ name: 'Lobby' }).expect(201);
      const all = await request(t.url).get('/v1/spaces/').set(auth(token.key)).expect(200);
      expect(all.body.count).toBe(3);
      expect(all.body.results[0].name).toBe('Lobby');
      const doors = await request(t.url).get('/v1/spaces/?q=door').set(auth(token.key)).expect(200);
      expect(doors.body.count).toBe(2);
      const page = await request(t.url).get('/v1/spaces/?limit=1&offset=1').set(auth(token.key)).expect(200);
      expect(page.body).toMatchObject({ count: 3, results: [{ name: 'Back door' }] });
      await request(t.url).get(`/v1/spaces/${a.id}/`).set(auth(token.key)).expect(200);
      const renamed = await request(t.url)
        .patch(`/v1/spaces/${a.id}/`)
        .set(auth(token.key))
        .send({ name: 'Main door' })
        .expect(200);
      expect(renamed.body.name).toBe('Main door');
      await request(t.url).put(`/v1/spaces/${a.id}`).set(auth(token.key)).send({ name: 'Main entrance' }).expect(200);
      const blank = await request(t.url).post('/v1/spaces/').set(auth(token.key)).send({ name: '' }).expect(400);
      expect(blank.body.fields[0]).toEqual({ name: 'name', message: 'This field may not be blank.', error_code: 400 });
      await request(t.url).delete(`/v1/spaces/${a.id}/`).set(auth(token.key)).expect(202);
      await request(t.url).get(`/v1/spaces/${a.id}/`).set(auth(token.key)).expect(404);
    });

    it("keeps another user's spaces out of reach (404)", async () => {
      const { token: me } = await login();
      const { token: theirs } = await login('other');
      const s = (await request(t.url).post('/v1/spaces/').set(auth(me.key)).send({ name: 'Mine' }).expect(201)).body;
      await request(t.url).get(`/v1/spaces/${s.id}/`).set(auth(theirs.key)).expect(404);
      await request(t.url).patch(`/v1/spaces/${s.id}/`).set(auth(theirs.key)).send({ name: 'x' }).expect(404);
      await request(t.url).delete(`/v1/spaces/${s.id}/`).set(auth(theirs.key)).expect(404);
      await request(t.url).post(`/v1/spaces/${s.id}/tokens/`).set(auth(theirs.key)).send({}).expect(404);
      expect((await request(t.url).get('/v1/spaces/').set(auth(theirs.key)).expect(200)).body.count).toBe(0);
      await request(t.url).get('/v1/spaces/abc/').set(auth(me.key)).expect(404);
    });

    it('issues space-scoped tokens that carry the space, at most 5 permanent per space, deleted with the space', async () => {
      const { token: me } = await login();
      const s = (await request(t.url).post('/v1/spaces/').set(auth(me.key)).send({ name: 'Scoped' }).expect(201)).body;
      const scoped = (
        await request(t.url).post(`/v1/spaces/${s.id}/tokens/`).set(auth(me.key)).send({ permanent: true }).expect(201)
      ).body as Token;
      expect(scoped.space_id).toBe(s.id);
      const who = await request(t.url).get('/v1/whoami/').set(auth(scoped.key)).expect(200);
      expect(who.body).toMatchObject({ username: 'usr', space: { id: s.id, name: 'Scoped' } });
      expect((await request(t.url).get('/v1/whoami/').set(auth(me.key)).expect(200)).body.space).toBeNull();
      for (let i = 0; i < 4; i++)
        await request(t.url).post(`/v1/spaces/${s.id}/tokens/`).set(auth(me.key)).send({ permanent: true }).expect(201);
      const sixth = await request(t.url)
        .post(`/v1/spaces/${s.id}/tokens/`)
        .set(auth(me.key))
        .send({ permanent: true })
        .expect(400);
      expect(sixth.body.fields[0].message).toMatch(/in this space/);
      await request(t.url).delete(`/v1/spaces/${s.id}/`).set(auth(me.key)).expect(202);
      await request(t.url).get('/v1/whoami/').set(auth(scoped.key)).expect(401);
    });
  });

  describe('POST /v1/auth/password/change/', () => {
    it('checks the old password and the confirmation, and applies the policy', async () => {
      const { token } = await login();
      const wrong = await request(t.url)
        .post('/v1/auth/password/change/')
        .set(auth(token.key))
        .send({ old_password: 'Nope-Nope-123', password: 'Fresh-Quartz-42', password2: 'Fresh-Quartz-42' })
        .expect(400);
      expect(wrong.body).toEqual({
        error_codes: [400],
        message: 'Validation error.',
        fields: [{ name: 'old_password', message: 'Incorrect password.', error_code: 400 }],
      });
      const mismatch = await request(t.url)
        .post('/v1/auth/password/change/')
        .set(auth(token.key))
        .send({ old_password: PASSWORD, password: 'Fresh-Quartz-42', password2: 'Fresh-Quartz-43' })
        .expect(400);
      expect(mismatch.body.fields).toEqual([
        { name: 'password2', message: 'The two password fields did not match.', error_code: 400 },
      ]);
      const weak = await request(t.url)
        .post('/v1/auth/password/change/')
        .set(auth(token.key))
        .send({ old_password: PASSWORD, new_password: 'weak' })
        .expect(400);
      expect(weak.body.fields[0].name).toBe('new_password');
      const missing = await request(t.url).post('/v1/auth/password/change/').set(auth(token.key)).send({}).expect(400);
      expect(missing.body.fields.map((f: { name: string }) => f.name)).toEqual(['old_password', 'password']);
    });

    it('with reset_tokens false, changes the password and keeps every token', async () => {
      const { token: a } = await login();
      const { token: b } = await login();
      await request(t.url)
        .post('/v1/auth/password/change/')
        .set(auth(a.key))
        .send({ old_password: PASSWORD, new_password: 'Fresh-Quartz-42', reset_tokens: false })
        .expect(204);
      await request(t.url).get('/v1/whoami/').set(auth(b.key)).expect(200);
      await request(t.url).post('/v1/auth/token/').send({ username: 'usr', password: PASSWORD }).expect(401);
      await login('usr', 'Fresh-Quartz-42');
    });

    it('with reset_tokens true, ends every other token, login session and key:token pair at once; the caller keeps working', async () => {
      const { token: caller } = await login('usr', 'Fresh-Quartz-42');
      const { token: other } = await login('usr', 'Fresh-Quartz-42');
      const jwt = await h.login('usr', 'Fresh-Quartz-42');
      const pair = (
        await request(t.url)
          .post('/users/token')
          .send({ client: 'web', email: 'usr@test.example.org', password: 'Fresh-Quartz-42' })
          .expect(200)
      ).body as { key: string; token: string };
      const basic = `Basic ${Buffer.from(`${pair.key}:${pair.token}`).toString('base64')}`;
      await request(t.url).get('/users').set('Authorization', basic).expect(200);
      const apiKey = (
        await request(t.url).post('/api/api-keys').set(h.bearer(jwt.access_token)).send({ name: 'k' }).expect(201)
      ).body.key as string;
      await request(t.url)
        .post('/v1/auth/password/change/')
        .set(auth(caller.key))
        .send({
          old_password: 'Fresh-Quartz-42',
          password: 'Second-Quartz-43',
          password2: 'Second-Quartz-43',
          reset_tokens: true,
        })
        .expect(204);
      await request(t.url).get('/v1/whoami/').set(auth(caller.key)).expect(200);
      await request(t.url).get('/v1/whoami/').set(auth(other.key)).expect(401);
      await request(t.url).get('/api/auth/me').set(h.bearer(jwt.access_token)).expect(401);
      await request(t.url).get('/users').set('Authorization', basic).expect(401);
      await request(t.url).get('/api/auth/me').set('X-API-Key', apiKey).expect(401);
      const left = (await request(t.url).get('/v1/tokens/').set(auth(caller.key)).expect(200)).body as Token[];
      expect(left.map((x) => x.id)).toEqual([caller.id]);
    });
  });

  it('answers without credentials with 401 in the IAM dialect, with and without the trailing slash', async () => {
    for (const path of ['/v1/whoami/', '/v1/whoami', '/v1/tokens/', '/v1/spaces']) {
      const res = await request(t.url).get(path).expect(401);
      expect(res.body).toEqual({ error_codes: [401], message: 'Authentication required', fields: [] });
    }
    const unknown = await request(t.url).get('/v1/nothing-here/').expect(404);
    expect(unknown.body).toEqual({ error_codes: [404], message: 'Not found', fields: [] });
  });
});
