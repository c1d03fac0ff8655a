import request from 'supertest';
import { api, decodeJwt, PASSWORD } from '../support/api';
import { startTestApp, TestApp } from '../support/harness';
import { forgeJwt } from '../support/tokens';

describe('JWT attacks beyond the basics', () => {
  let t: TestApp;
  let h: ReturnType<typeof api>;
  let user: { id: string };

  beforeAll(async () => {
    t = await startTestApp();
    h = api(t);
    user = await h.createUser('jwt@test.example.org', 'researcher');
  });
  afterAll(() => t.close());

  const me = (token: string) => request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${token}`);

  it('refuses RS256 and other algorithms even when signed with the HMAC key (no algorithm confusion)', async () => {
    const { access_token } = await h.login('jwt@test.example.org', PASSWORD);
    const sid = decodeJwt(access_token).sid as string;
    for (const alg of ['RS256', 'ES256', 'PS256', 'HS384']) {
      await me(forgeJwt({ sub: user.id, sid, role: 'researcher' }, { alg })).expect(401);
    }
  });

  it('refuses a token that is not valid yet', async () => {
    const { access_token } = await h.login('jwt@test.example.org', PASSWORD);
    const sid = decodeJwt(access_token).sid as string;
    const later = Math.floor(Date.now() / 1000) + 3600;
    await me(forgeJwt({ sub: user.id, sid, role: 'researcher', nbf: later })).expect(401);
  });

  it('refuses a refresh token, a magic-link token or an API key presented as an access token', async () => {
    const { refresh_token, access_token } = await h.login('jwt@test.example.org', PASSWORD);
    await me(refresh_token).expect(401);
    await me('A'.repeat(43)).expect(401);
    const key = (
      await request(t.url)
        .post('/api/api-keys')
        .set('Authorization', `Bearer ${access_token}`)
        .send({ name: 'k' })
        .expect(201)
    ).body.key;
    await me(key).expect(401);
  });

  it('refuses the token of a deleted user (within the second its cached record may live)', async () => {
    const doomed = await h.createUser('deleted@test.example.org', 'viewer');
    const { access_token } = await h.login('deleted@test.example.org', PASSWORD);
    await me(access_token).expect(200);
    await t.db.query(`DELETE FROM users WHERE id = $1`, [doomed.id]);
    await new Promise((r) => setTimeout(r, 1100)); // the user cache lives one second
    await me(access_token).expect(401);
  });
});

describe('exactly once under 50 parallel requests', () => {
  let t: TestApp;
  let h: ReturnType<typeof api>;

  beforeAll(async () => {
    t = await startTestApp();
    h = api(t);
    await h.createUser('racer@test.example.org', 'researcher');
  });
  afterAll(() => t.close());

  it('the same magic link: one session', async () => {
    await h.createUser('racer-patient@test.example.org', 'patient', null);
    await request(t.url).post('/api/auth/magic-link').send({ email: 'racer-patient@test.example.org' }).expect(202);
    const mail = await t.smtp.waitFor('racer-patient@test.example.org');
    const token = /token=([A-Za-z0-9_-]+)/.exec(mail.text)![1];
    const results = await Promise.all(
      Array.from({ length: 50 }, () => request(t.url).post('/api/auth/magic-link/verify').send({ token })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(49);
  });

  it('the same assessment submission: stored once', async () => {
    const { access_token } = await h.login('racer@test.example.org', PASSWORD);
    const s = (
      await request(t.url)
        .post('/api/session/start')
        .set('Authorization', `Bearer ${access_token}`)
        .send({ participant_id: 'P', battery_id: 'B' })
        .expect(201)
    ).body;
    const body = { session_id: s.session_id, task_summaries: { a: 1 }, trials: [{ rt: 1 }] };
    const results = await Promise.all(
      Array.from({ length: 50 }, () => request(t.url).post('/api/submit').set('X-Session-ID', s.session_id).send(body)),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(49);
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM submissions`);
    expect(n).toBe(1);
  });

  it('the 6th permanent token: exactly 5 exist after 50 parallel creations', async () => {
    const login = await request(t.url)
      .post('/v1/auth/token/')
      .send({ username: 'racer@test.example.org', password: PASSWORD })
      .expect(200);
    const auth = `Token ${login.body.token.key}`;
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        request(t.url).post('/v1/tokens/').set('Authorization', auth).send({ permanent: true }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(5);
    expect(results.filter((r) => r.status === 400)).toHaveLength(45);
  });
});
