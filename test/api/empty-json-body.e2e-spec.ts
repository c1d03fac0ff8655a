import request from 'supertest';
import { api, PASSWORD } from '../support/api';
import { startTestApp, TestApp } from '../support/harness';

/**
 * `Content-Type: application/json` with nothing after it is a request without a body, on every method
 * (the NeuroIO SDK sends every DELETE that way). A route that needs a body still refuses it in its own
 * words; whitespace and malformed JSON stay malformed.
 */
describe('an empty JSON body is no body', () => {
  let t: TestApp;
  let h: ReturnType<typeof api>;
  let admin: string;
  let iamKey: string;
  const json = { 'Content-Type': 'application/json' };
  const iam = (key: string) => ({ Authorization: `Token ${key}` });
  // Both ways a client says "nothing": no length at all, and an explicit zero.
  const emptyBodies = [{}, { 'Content-Length': '0' }];

  beforeAll(async () => {
    t = await startTestApp();
    h = api(t);
    admin = await h.adminToken();
    await request(t.url)
      .post('/api/auth/register')
      .set(h.bearer(admin))
      .send({ email: 'empty@test.example.org', username: 'empty', password: PASSWORD, role: 'researcher' })
      .expect(201);
    iamKey = (await request(t.url).post('/v1/auth/token/').send({ username: 'empty', password: PASSWORD }).expect(200))
      .body.token.key;
  });
  afterAll(() => t.close());

  it.each(emptyBodies)('deletes an IAM token and a space (%o)', async (length) => {
    const token = (await request(t.url).post('/v1/tokens/').set(iam(iamKey)).send({ permanent: true }).expect(201))
      .body;
    await request(t.url).delete(`/v1/tokens/${token.id}/`).set(iam(iamKey)).set(json).set(length).expect(204);
    await request(t.url).get('/v1/whoami/').set(iam(token.key)).expect(401);
    const space = (await request(t.url).post('/v1/spaces/').set(iam(iamKey)).send({ name: 'Hall' }).expect(201)).body;
    await request(t.url).delete(`/v1/spaces/${space.id}/`).set(iam(iamKey)).set(json).set(length).expect(202);
    await request(t.url).get(`/v1/spaces/${space.id}/`).set(iam(iamKey)).expect(404);
    await request(t.url).delete('/v1/tokens/?permanent=true').set(iam(iamKey)).set(json).set(length).expect(204);
  });

  it('revokes a portal API key and logs out of the portal with an empty JSON body', async () => {
    const key = (await request(t.url).post('/api/api-keys').set(h.bearer(admin)).send({ name: 'k' }).expect(201)).body;
    await request(t.url).delete(`/api/api-keys/${key.id}`).set(h.bearer(admin)).set(json).expect(204);
    await request(t.url).get('/api/auth/me').set('X-API-Key', key.key).expect(401);
    const session = await h.login('empty', PASSWORD);
    await request(t.url).post('/api/auth/logout').set(h.bearer(session.access_token)).set(json).expect(204);
    await request(t.url).get('/api/auth/me').set(h.bearer(session.access_token)).expect(401);
  });

  it('lets a key:token client read its user with an empty JSON body', async () => {
    const pair = (
      await request(t.url)
        .post('/users/token')
        .send({ client: 'web', email: 'empty@test.example.org', password: PASSWORD })
        .expect(200)
    ).body;
    const basic = { Authorization: `Basic ${Buffer.from(`${pair.key}:${pair.token}`).toString('base64')}` };
    const me = await request(t.url).get('/users').set(basic).set(json).set('Content-Length', '0').expect(200);
    expect(me.body.email).toBe('empty@test.example.org');
    // DELETE /users/token takes a body ({client}): without one it is the surface's own validation error.
    const res = await request(t.url).delete('/users/token').set(basic).set(json).expect(400);
    expect(res.body).toEqual({ errors: ['client: client is required'] });
    await request(t.url).get('/users').set(basic).expect(200);
  });

  it('gives a route that needs a body its validation error in its dialect', async () => {
    const iamLogin = await request(t.url).post('/v1/auth/token/').set(json).expect(400);
    expect(iamLogin.body).toEqual({
      error_codes: [400],
      message: 'Validation error.',
      fields: expect.arrayContaining([{ name: 'username', message: 'This field is required.', error_code: 400 }]),
    });
    const portal = await request(t.url).post('/api/auth/login').set(json).set('Content-Length', '0').expect(400);
    expect(portal.body.error.code).toBe('VALIDATION_ERROR');
    const clinical = await request(t.url).post('/api/login').set(json).expect(400);
    expect(clinical.body).toMatchObject({ success: false });
    const keyToken = await request(t.url).post('/users/token').set(json).expect(400);
    expect(keyToken.body.errors).toEqual(
      expect.arrayContaining(['client: client is required', 'email: email is required']),
    );
    await request(t.url).put(`/v1/tokens/1/`).set(iam(iamKey)).set(json).expect(400);
  });

  it('keeps malformed JSON, a body of whitespace and prototype poisoning at 400', async () => {
    const malformed = await request(t.url).post('/v1/auth/token/').set(json).send('{"username":').expect(400);
    expect(malformed.body).toEqual({ error_codes: [400], message: 'Malformed JSON in request body', fields: [] });
    const blank = await request(t.url).delete(`/v1/tokens/1/`).set(iam(iamKey)).set(json).send('  \n').expect(400);
    expect(blank.body.message).toBe('Malformed JSON in request body');
    const portal = await request(t.url).post('/api/auth/login').set(json).send('{nope').expect(400);
    expect(portal.body.error).toEqual({ code: 'BAD_REQUEST', message: 'Malformed JSON in request body' });
    await request(t.url)
      .post('/api/auth/login')
      .set(json)
      .send('{"username":"a","password":"b","__proto__":{"role":"admin"}}')
      .expect(400);
  });

  it('still reads form bodies', async () => {
    const token = (await request(t.url).post('/v1/tokens/').set(iam(iamKey)).send({ permanent: true }).expect(201))
      .body;
    const res = await request(t.url)
      .patch(`/v1/tokens/${token.id}/`)
      .set(iam(iamKey))
      .type('form')
      .send('is_active=false')
      .expect(200);
    expect(res.body.is_active).toBe(false);
    await request(t.url).get('/v1/whoami/').set(iam(token.key)).expect(401);
  });
});
