import request from 'supertest';
import { api, PASSWORD } from '../support/api';
import { TestApp } from '../support/harness';
import { describeWithRedis, startRedis } from '../support/redis-server';
import { CookieJar, freePort, pkce, registerClient, RegisteredClient, startOAuthApp } from '../support/oauth';

/**
 * The provider's state lives in PostgreSQL (oauth_models), so every instance behind one issuer continues
 * any flow that another began, and a restart loses nothing: codes, tokens, sessions, grants, interactions.
 */
describeWithRedis('OAuth provider: two instances and a restart share one provider state (API.md 15)', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let a: TestApp;
  let b: TestApp;
  let c: RegisteredClient;
  let userToken: string;
  const REDIRECT = 'http://127.0.0.1:9999/callback';

  beforeAll(async () => {
    redis = await startRedis();
    const portA = await freePort();
    // One issuer for both, as behind a load balancer: APP_URL names the first.
    const issuer = `http://127.0.0.1:${portA}`;
    a = await startOAuthApp({ PORT: String(portA), APP_URL: issuer, REDIS_URL: redis.url });
    b = await startOAuthApp({ APP_URL: issuer, REDIS_URL: redis.url, KEEP_DATABASE: '1' });
    const h = api(a);
    const adminToken = await h.adminToken();
    await h.createUser('two@test.example.org', 'researcher', PASSWORD, adminToken);
    userToken = (await h.login('two@test.example.org', PASSWORD)).access_token;
    c = await registerClient(a, adminToken, { name: 'Balanced', redirect_uris: [REDIRECT], first_party: true });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await redis?.stop();
  });

  const jwks = async (t: TestApp) =>
    ((await request(t.url).get('/.well-known/jwks.json').expect(200)).body.keys as { kid: string }[])
      .map((k) => k.kid)
      .sort();

  it('publishes the same keys and discovery on both instances', async () => {
    expect(await jwks(b)).toEqual(await jwks(a));
    const da = (await request(a.url).get('/.well-known/openid-configuration').expect(200)).body;
    const db = (await request(b.url).get('/.well-known/openid-configuration').expect(200)).body;
    expect(db).toEqual(da);
  });

  it('runs one authorization across both: started on A, signed in on B, resumed on A, redeemed on B, revoked on B, refused on A', async () => {
    const jar = new CookieJar();
    const { verifier, challenge } = pkce();
    const q = new URLSearchParams({
      client_id: c.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid offline_access api:read',
      prompt: 'consent',
      state: 's',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const started = await request(a.url).get(`/oauth/auth?${q}`).expect(303);
    jar.take(started.headers['set-cookie']);
    const uid = /^\/interaction\/([^/?]+)$/.exec(started.headers.location)![1];
    const login = await request(b.url)
      .post(`/interaction/${uid}/login`)
      .set('Cookie', jar.header())
      .set('Authorization', `Bearer ${userToken}`)
      .expect(200);
    let res = await request(a.url)
      .get(new URL(login.body.redirect_to).pathname)
      .set('Cookie', jar.header())
      .expect(303);
    jar.take(res.headers['set-cookie']);
    // A consent prompt (prompt=consent), answered on B, resumed on A again.
    const consentUid = /^\/interaction\/([^/?]+)$/.exec(res.headers.location)![1];
    const consent = await request(b.url)
      .post(`/interaction/${consentUid}/consent`)
      .set('Cookie', jar.header())
      .set('Authorization', `Bearer ${userToken}`)
      .expect(200);
    res = await request(a.url).get(new URL(consent.body.redirect_to).pathname).set('Cookie', jar.header()).expect(303);
    const code = new URL(res.headers.location).searchParams.get('code')!;
    const tokens = (
      await request(b.url)
        .post('/oauth/token')
        .auth(c.client_id, c.client_secret!)
        .type('form')
        .send({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT })
        .expect(200)
    ).body;
    await request(a.url).get('/api/auth/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);
    const introspected = await request(a.url)
      .post('/oauth/token/introspection')
      .auth(c.client_id, c.client_secret!)
      .type('form')
      .send({ token: tokens.access_token })
      .expect(200);
    expect(introspected.body.active).toBe(true);
    // The same code on A now: refused, and what it issued is revoked everywhere.
    const again = await request(a.url)
      .post('/oauth/token')
      .auth(c.client_id, c.client_secret!)
      .type('form')
      .send({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT });
    expect(again.body.error).toBe('invalid_grant');
    await new Promise((r) => setTimeout(r, 1100));
    await request(b.url).get('/api/auth/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(401);
  });

  it('keeps every token through a restart: a refresh token issued before it works after it', async () => {
    const jar = new CookieJar();
    const { verifier, challenge } = pkce();
    const q = new URLSearchParams({
      client_id: c.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid offline_access api:read',
      prompt: 'consent',
      state: 's',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const started = await request(a.url).get(`/oauth/auth?${q}`).expect(303);
    jar.take(started.headers['set-cookie']);
    const uid = /^\/interaction\/([^/?]+)$/.exec(started.headers.location)![1];
    // The interaction began before the restart and finishes after it.
    await a.restart();
    const login = await request(a.url)
      .post(`/interaction/${uid}/login`)
      .set('Cookie', jar.header())
      .set('Authorization', `Bearer ${userToken}`)
      .expect(200);
    let res = await request(a.url)
      .get(new URL(login.body.redirect_to).pathname)
      .set('Cookie', jar.header())
      .expect(303);
    jar.take(res.headers['set-cookie']);
    const consentUid = /^\/interaction\/([^/?]+)$/.exec(res.headers.location)![1];
    const consent = await request(a.url)
      .post(`/interaction/${consentUid}/consent`)
      .set('Cookie', jar.header())
      .set('Authorization', `Bearer ${userToken}`)
      .expect(200);
    res = await request(a.url).get(new URL(consent.body.redirect_to).pathname).set('Cookie', jar.header()).expect(303);
    const code = new URL(res.headers.location).searchParams.get('code')!;
    const tokens = (
      await request(a.url)
        .post('/oauth/token')
        .auth(c.client_id, c.client_secret!)
        .type('form')
        .send({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT })
        .expect(200)
    ).body;
    await a.restart();
    const refreshed = await request(a.url)
      .post('/oauth/token')
      .auth(c.client_id, c.client_secret!)
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token })
      .expect(200);
    await request(a.url).get('/api/auth/me').set('Authorization', `Bearer ${refreshed.body.access_token}`).expect(200);
    await request(b.url).get('/api/auth/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);
  });
});
