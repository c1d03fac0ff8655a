import { Secret, TOTP } from 'otpauth';
import request from 'supertest';
import { api, decodeJwt, PASSWORD } from '../support/api';
import { TestApp } from '../support/harness';
import { authorize, CookieJar, pkce, registerClient, RegisteredClient, startOAuthApp } from '../support/oauth';

/** What happens between the authorization request and the code: sign-in rules, consent, and taking access back. */
describe('OAuth provider: sign-in, consent and applications with access (API.md 15)', () => {
  let t: TestApp;
  let h: ReturnType<typeof api>;
  let adminToken: string;
  let c: RegisteredClient;
  const REDIRECT = 'http://127.0.0.1:9999/callback';
  let n = 0;

  beforeAll(async () => {
    t = await startOAuthApp();
    h = api(t);
    adminToken = await h.adminToken();
    c = await registerClient(t, adminToken, { name: 'Third-party notebook', redirect_uris: [REDIRECT] });
  });
  afterAll(() => t?.close());

  const newUser = async () => {
    const email = `oauth-user${++n}@test.example.org`;
    const u = await h.createUser(email, 'researcher');
    return { ...u, email, token: (await h.login(email, PASSWORD)).access_token };
  };

  /** Starts an authorization request and stops at its first interaction page: its uid and the browser's cookies. */
  const start = async (extra: Record<string, string> = {}, client = c) => {
    const jar = new CookieJar();
    const { challenge } = pkce();
    const q = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid email api:read',
      state: 'st',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...extra,
    });
    const res = await request(t.url).get(`/oauth/auth?${q}`).expect(303);
    jar.take(res.headers['set-cookie']);
    const uid = /^\/interaction\/([^/?]+)$/.exec(res.headers.location)![1];
    return { uid, jar };
  };
  const loginAt = (uid: string, jar: CookieJar, token: string) =>
    request(t.url)
      .post(`/interaction/${uid}/login`)
      .set('Cookie', jar.header())
      .set('Authorization', `Bearer ${token}`);

  it('serves the interaction page with the pages policy, and refuses it to another browser', async () => {
    const { uid, jar } = await start();
    const page = await request(t.url).get(`/interaction/${uid}`).expect(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.text).toContain('/assets/oauth.js');
    const details = await request(t.url).get(`/interaction/${uid}/details`).set('Cookie', jar.header()).expect(200);
    expect(details.body).toMatchObject({
      prompt: 'login',
      client_name: 'Third-party notebook',
      scopes: ['openid', 'email', 'api:read'],
    });
    // Without the provider's cookie of the browser that started it, the interaction is not found.
    await request(t.url).get(`/interaction/${uid}/details`).expect(404);
    const u = await newUser();
    await request(t.url).post(`/interaction/${uid}/login`).set('Authorization', `Bearer ${u.token}`).expect(404);
  });

  it('takes only a sign-in credential at the interaction, never a delegated one', async () => {
    const u = await newUser();
    const key = (
      await request(t.url)
        .post('/api/api-keys')
        .set('Authorization', `Bearer ${u.token}`)
        .send({ name: 'k' })
        .expect(201)
    ).body;
    const { uid, jar } = await start();
    const res = await request(t.url)
      .post(`/interaction/${uid}/login`)
      .set('Cookie', jar.header())
      .set('X-API-Key', key.key ?? key.api_key);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('SIGN_IN_REQUIRED');
  });

  it('asks for consent naming the client and scopes, remembers it per user and client, and lists it on the account', async () => {
    const u = await newUser();
    const { uid, jar } = await start();
    const login = await loginAt(uid, jar, u.token).expect(200);
    const resumed = await request(t.url)
      .get(new URL(login.body.redirect_to, t.url).pathname)
      .set('Cookie', jar.header())
      .expect(303);
    jar.take(resumed.headers['set-cookie']);
    const consentUid = /^\/interaction\/([^/?]+)$/.exec(resumed.headers.location)![1];
    const details = await request(t.url)
      .get(`/interaction/${consentUid}/details`)
      .set('Cookie', jar.header())
      .expect(200);
    expect(details.body).toMatchObject({ prompt: 'consent', client_name: 'Third-party notebook' });
    // Another account cannot consent for this one.
    const intruder = await newUser();
    await request(t.url)
      .post(`/interaction/${consentUid}/consent`)
      .set('Cookie', jar.header())
      .set('Authorization', `Bearer ${intruder.token}`)
      .expect(403);
    await request(t.url)
      .post(`/interaction/${consentUid}/consent`)
      .set('Cookie', jar.header())
      .set('Authorization', `Bearer ${u.token}`)
      .expect(200);
    const grants = await request(t.url).get('/api/oauth/grants').set('Authorization', `Bearer ${u.token}`).expect(200);
    expect(grants.body).toEqual([
      {
        client_id: c.client_id,
        client_name: 'Third-party notebook',
        scopes: expect.arrayContaining(['openid', 'email', 'api:read']),
        granted_at: expect.any(String),
      },
    ]);
    // In a new browser, the same request needs a sign-in but no consent.
    const again = await authorize(t, {
      clientId: c.client_id,
      redirectUri: REDIRECT,
      scope: 'openid email api:read',
      userToken: u.token,
      challenge: pkce().challenge,
      consent: false,
    });
    expect(again.searchParams.get('code')).toBeTruthy();
    // A scope it was not given is asked for again.
    const more = await start({ scope: 'openid email profile' });
    const moreLogin = await loginAt(more.uid, more.jar, u.token).expect(200);
    const moreResumed = await request(t.url)
      .get(new URL(moreLogin.body.redirect_to, t.url).pathname)
      .set('Cookie', more.jar.header())
      .expect(303);
    expect(moreResumed.headers.location).toMatch(/^\/interaction\//);
  });

  it('sends access_denied back when the person refuses', async () => {
    const u = await newUser();
    const back = await authorize(t, {
      clientId: c.client_id,
      redirectUri: REDIRECT,
      scope: 'openid',
      userToken: u.token,
      challenge: pkce().challenge,
      consent: false,
    });
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('code')).toBeNull();
  });

  it("takes an application's access back from the account page: consent, codes and tokens end", async () => {
    const u = await newUser();
    const { verifier, challenge } = pkce();
    const back = await authorize(t, {
      clientId: c.client_id,
      redirectUri: REDIRECT,
      scope: 'openid api:read offline_access',
      userToken: u.token,
      challenge,
      extra: { prompt: 'consent' },
    });
    const tokens = (
      await request(t.url)
        .post('/oauth/token')
        .auth(c.client_id, c.client_secret!)
        .type('form')
        .send({
          grant_type: 'authorization_code',
          code: back.searchParams.get('code'),
          code_verifier: verifier,
          redirect_uri: REDIRECT,
        })
        .expect(200)
    ).body;
    await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);
    await request(t.url)
      .delete(`/api/oauth/grants/${c.client_id}`)
      .set('Authorization', `Bearer ${u.token}`)
      .expect(204);
    await request(t.url)
      .delete(`/api/oauth/grants/${c.client_id}`)
      .set('Authorization', `Bearer ${u.token}`)
      .expect(404);
    expect(
      (await request(t.url).get('/api/oauth/grants').set('Authorization', `Bearer ${u.token}`).expect(200)).body,
    ).toEqual([]);
    await new Promise((r) => setTimeout(r, 1100));
    await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(401);
    const refresh = await request(t.url)
      .post('/oauth/token')
      .auth(c.client_id, c.client_secret!)
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(refresh.body.error).toBe('invalid_grant');
    const events = await t.db.query(`SELECT event FROM audit_events WHERE user_id = $1 ORDER BY at`, [u.id]);
    expect(events.map((e: { event: string }) => e.event)).toEqual(
      expect.arrayContaining(['oauth_consent_granted', 'oauth_token_issued', 'oauth_consent_revoked']),
    );
  });

  it("lets the provider's session last only as long as the service's own login session of that browser", async () => {
    const u = await newUser();
    const firstParty = await registerClient(t, adminToken, {
      name: 'Own app',
      redirect_uris: [REDIRECT],
      first_party: true,
    });
    const signIn = (await h.login(u.email, PASSWORD)).access_token;
    const jar = new CookieJar();
    jar.take([`auth_token=${signIn}`]);
    const q = () =>
      new URLSearchParams({
        client_id: firstParty.client_id,
        redirect_uri: REDIRECT,
        response_type: 'code',
        scope: 'openid',
        state: 's',
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
      });
    const first = await authorize(t, {
      clientId: firstParty.client_id,
      redirectUri: REDIRECT,
      scope: 'openid',
      userToken: signIn,
      challenge: pkce().challenge,
      jar,
    });
    expect(first.searchParams.get('code')).toBeTruthy();
    // Signed in here and at the provider: the next request goes straight back with a code.
    const again = await request(t.url).get(`/oauth/auth?${q()}`).set('Cookie', jar.header()).expect(303);
    expect(again.headers.location).toMatch(/^http:\/\/127\.0\.0\.1:9999\/callback\?code=/);
    // Signed out of the service: the provider's cookie alone no longer signs anyone in.
    await request(t.url).post('/api/auth/logout').set('Authorization', `Bearer ${signIn}`).expect(204);
    const after = await request(t.url).get(`/oauth/auth?${q()}`).set('Cookie', jar.header()).expect(303);
    expect(after.headers.location).toMatch(/^\/interaction\//);
  });

  it('asks for a new sign-in for prompt=login and max_age', async () => {
    const u = await newUser();
    await new Promise((r) => setTimeout(r, 1100));
    const { uid, jar } = await start({ prompt: 'login' });
    const stale = await loginAt(uid, jar, u.token);
    expect(stale.status).toBe(401);
    const fresh = (await h.login(u.email, PASSWORD)).access_token;
    await loginAt(uid, jar, fresh).expect(200);

    const aged = await start({ max_age: '1' });
    await new Promise((r) => setTimeout(r, 2100));
    expect((await loginAt(aged.uid, aged.jar, fresh)).status).toBe(401);
    await loginAt(aged.uid, aged.jar, (await h.login(u.email, PASSWORD)).access_token).expect(200);
  });

  it('asks for the second factor when acr_values asks aal2 of a user who has one, then takes the aal2 sign-in', async () => {
    const u = await newUser();
    const enrol = (
      await request(t.url)
        .post('/api/auth/mfa/totp')
        .set('Authorization', `Bearer ${u.token}`)
        .send({ name: 'Phone' })
        .expect(201)
    ).body;
    const app = new TOTP({ secret: Secret.fromBase32(enrol.secret), algorithm: 'SHA1', digits: 6, period: 30 });
    await request(t.url)
      .post(`/api/auth/mfa/factors/${enrol.factor_id}/confirm`)
      .set('Authorization', `Bearer ${u.token}`)
      .send({ code: app.generate() })
      .expect(200);
    const { uid, jar } = await start({ acr_values: 'aal2' });
    const refused = await loginAt(uid, jar, u.token);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('MFA_STEP_UP_REQUIRED');
    const first = await request(t.url)
      .post('/api/auth/login')
      .send({ username: u.email, password: PASSWORD })
      .expect(401);
    const aal2 = (
      await request(t.url)
        .post('/api/auth/mfa/verify')
        .send({ mfa_token: first.body.error.details.mfa_token, code: app.generate({ timestamp: Date.now() + 30_000 }) })
        .expect(200)
    ).body.access_token as string;
    expect(decodeJwt(aal2).aal).toBe('aal2');
    await loginAt(uid, jar, aal2).expect(200);
  });
});
