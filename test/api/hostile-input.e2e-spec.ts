import request from 'supertest';
import { api, PASSWORD } from '../support/api';
import { startTestApp, TestApp } from '../support/harness';

/** Input that once reached PostgreSQL or a recursive walker and came back as a 500. */
describe('hostile input gets a 4xx in the dialect, never a 500', () => {
  let t: TestApp;
  let h: ReturnType<typeof api>;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_MAGIC_LINK: '5/15m', RATE_LIMIT_LOGIN: '5/15m' });
    h = api(t);
    admin = await h.adminToken();
  });
  afterAll(() => t.close());

  it('refuses NUL bytes in strings that reach the database', async () => {
    const login = await request(t.url)
      .post('/api/auth/login')
      .send({ username: 'a\u0000b', password: 'x' })
      .expect(400);
    // A login identifier with a control character is refused by validation, before any lookup.
    expect(login.body.error.code).toBe('VALIDATION_ERROR');
    await request(t.url).post('/api/studies').set(h.bearer(admin)).send({ name: 'a\u0000b' }).expect(400);
    await request(t.url).get('/api/audit?event=a%00b').set(h.bearer(admin)).expect(400);
    const clinical = await request(t.url).post('/api/login').send({ email: 'a\u0000b', password: 'x' }).expect(400);
    expect(clinical.body).toMatchObject({ success: false, code: 'VALIDATION_ERROR' });
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM studies`);
    expect(n).toBe(0);
  });

  it('refuses a submission with a NUL byte or a lone surrogate, storing nothing', async () => {
    const { session_id: sid } = (
      await request(t.url)
        .post('/api/session/start')
        .set(h.bearer(admin))
        .send({ participant_id: 'P', battery_id: 'B' })
        .expect(201)
    ).body;
    const send = (raw: string) =>
      request(t.url).post('/api/submit').set('X-Session-ID', sid).set('Content-Type', 'application/json').send(raw);
    await send(`{"session_id":"${sid}","task_summaries":{"a":"\\ud800"},"trials":[]}`).expect(400);
    await send(`{"session_id":"${sid}","task_summaries":{"a\\u0000":1},"trials":[]}`).expect(400);
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM submissions`);
    expect(n).toBe(0);
    await send(`{"session_id":"${sid}","task_summaries":{"a":1},"trials":[]}`).expect(201);
  });

  it('refuses deeply nested bodies before they reach validation', async () => {
    const deep = '['.repeat(20000) + ']'.repeat(20000);
    const res = await request(t.url)
      .post('/api/auth/login')
      .set('Content-Type', 'application/json')
      .send(`{"username":${deep},"password":"x"}`)
      .expect(400);
    expect(res.body).toEqual({ error: { code: 'BAD_REQUEST', message: 'Request body is nested too deeply' } });
    await request(t.url)
      .post('/api/studies')
      .set(h.bearer(admin))
      .set('Content-Type', 'application/json')
      .send(`{"name":"n","x":${deep}}`)
      .expect(400);
    await request(t.url)
      .post('/api/register')
      .set('Content-Type', 'application/json')
      .send(`{"email":${deep}}`)
      .expect(400);
  });

  it('counts the magic-link limit by email even when other fields vary', async () => {
    for (let i = 0; i < 5; i++) {
      await request(t.url)
        .post('/api/auth/magic-link')
        .send({ email: 'bomb@test.example.org', username: `x${i}` })
        .expect(202);
    }
    await request(t.url)
      .post('/api/auth/magic-link')
      .send({ email: 'bomb@test.example.org', username: 'x9' })
      .expect(429);
  });

  it('keeps assessment session ids out of the request log', async () => {
    const { session_id: sid } = (
      await request(t.url)
        .post('/api/session/start')
        .set(h.bearer(admin))
        .send({ participant_id: 'P', battery_id: 'B' })
        .expect(201)
    ).body;
    await request(t.url).get(`/api/sessions/${sid}`).set(h.bearer(admin)).expect(200);
    expect(t.logs.text).toContain('sess_[REDACTED]');
    expect(t.logs.text).not.toContain(sid);
  });

  it('lets only a signed-in user (not an API key) create API keys', async () => {
    await h.createUser('keys@test.example.org', 'researcher', PASSWORD, admin);
    const owner = (await h.login('keys@test.example.org', PASSWORD)).access_token;
    const { key } = (await request(t.url).post('/api/api-keys').set(h.bearer(owner)).send({ name: 'k' }).expect(201))
      .body;
    await request(t.url).post('/api/api-keys').set('X-API-Key', key).send({ name: 'child' }).expect(401);
    await request(t.url).get('/api/api-keys').set('X-API-Key', key).expect(200);
  });

  it('counts login attempts by the field each surface looks the account up by, whatever else the body holds', async () => {
    for (let i = 0; i < 5; i++) {
      await request(t.url)
        .post('/api/login')
        .send({ email: 'victim@test.example.org', password: 'Wrong-1a', username: `r${i}` })
        .expect(401);
    }
    await request(t.url)
      .post('/api/login')
      .send({ email: 'victim@test.example.org', password: 'Wrong-1a', username: 'r9' })
      .expect(429);
    for (let i = 0; i < 5; i++) {
      await request(t.url)
        .post('/users/token')
        .send({ client: 'web', email: 'victim2@test.example.org', password: 'x', username: `r${i}` })
        .expect(400);
    }
    await request(t.url)
      .post('/users/token')
      .send({ client: 'web', email: 'victim2@test.example.org', password: 'x', username: 'r9' })
      .expect(429);
  });

  it('answers malformed and over-long URLs in the dialect of the surface', async () => {
    expect((await request(t.url).get('/v1/tokens/%FF/').expect(400)).body).toEqual({
      error_codes: [400],
      message: 'Malformed URL',
      fields: [],
    });
    expect((await request(t.url).get('/api/appointments/%FF').expect(400)).body).toEqual({
      success: false,
      error: 'Malformed URL',
      code: 'BAD_REQUEST',
    });
    const long = await request(t.url)
      .get(`/v1/tokens/${'a'.repeat(300)}/`)
      .expect(414);
    expect(long.body.error_codes).toEqual([414]);
  });

  it('keeps IAM token keys out of the request log when they address a token', async () => {
    const login = await request(t.url)
      .post('/v1/auth/token/')
      .send({ username: 'keys@test.example.org', password: PASSWORD })
      .expect(200);
    const key = login.body.token.key as string;
    await request(t.url).get(`/v1/tokens/${key}/`).set('Authorization', `Token ${key}`).expect(200);
    expect(t.logs.text).toContain('tk_[REDACTED]');
    expect(t.logs.text).not.toContain(key);
  });

  it('trims names and refuses names of only spaces', async () => {
    await request(t.url).post('/api/studies').set(h.bearer(admin)).send({ name: '   ' }).expect(400);
  });
});
