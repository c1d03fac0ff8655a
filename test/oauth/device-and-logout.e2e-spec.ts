import { createServer, type Server } from 'node:http';
import request from 'supertest';
import { api, decodeJwt, PASSWORD } from '../support/api';
import { TestApp } from '../support/harness';
import { authorize, CookieJar, freePort, pkce, registerClient, startOAuthApp } from '../support/oauth';

type OpenIdClient = typeof import('openid-client');

const hidden = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];

describe('OAuth provider: device authorization and logout (API.md 15)', () => {
  let t: TestApp;
  let oc: OpenIdClient;
  let h: ReturnType<typeof api>;
  let adminToken: string;
  let backchannel: Server;
  let bclPort: number;
  const logoutTokens: string[] = [];

  beforeAll(async () => {
    oc = await import('openid-client');
    t = await startOAuthApp();
    h = api(t);
    adminToken = await h.adminToken();
    bclPort = await freePort();
    backchannel = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        logoutTokens.push(new URLSearchParams(body).get('logout_token') ?? '');
        res.statusCode = 200;
        res.end();
      });
    });
    await new Promise<void>((r) => backchannel.listen(bclPort, '127.0.0.1', r));
  });
  afterAll(async () => {
    await new Promise((r) => backchannel?.close(r));
    await t?.close();
  });

  it('signs a command-line tool in with the device authorization grant (RFC 8628)', async () => {
    const email = 'device-user@test.example.org';
    const u = await h.createUser(email, 'researcher');
    const userToken = (await h.login(email, PASSWORD)).access_token;
    const cli = await registerClient(t, adminToken, {
      name: 'Research CLI',
      type: 'public',
      redirect_uris: [],
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      scopes: ['openid', 'offline_access', 'api:read'],
    });
    const config = await oc.discovery(new URL(t.url), cli.client_id, undefined, oc.None(), {
      execute: [oc.allowInsecureRequests],
    });
    const device = await oc.initiateDeviceAuthorization(config, { scope: 'openid api:read' });
    expect(device.verification_uri).toBe(`${t.url}/oauth/device`);
    expect(device.user_code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);

    // The person opens the verification page in a browser, types the code, confirms, signs in, consents.
    const jar = new CookieJar();
    const form = await request(t.url).get('/oauth/device').expect(200);
    jar.take(form.headers['set-cookie']);
    expect(form.text).toContain('<label for="user_code">');
    let res = await request(t.url)
      .post('/oauth/device')
      .set('Cookie', jar.header())
      .type('form')
      .send({ xsrf: hidden(form.text, 'xsrf'), user_code: device.user_code });
    jar.take(res.headers['set-cookie']);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Research CLI');
    res = await request(t.url)
      .post('/oauth/device')
      .set('Cookie', jar.header())
      .type('form')
      .send({ xsrf: hidden(res.text, 'xsrf'), user_code: hidden(res.text, 'user_code'), confirm: 'yes' });
    jar.take(res.headers['set-cookie']);
    let next = res.headers.location as string;
    for (let hop = 0; hop < 8 && next; hop++) {
      const m = /^\/interaction\/([^/?]+)$/.exec(new URL(next, t.url).pathname);
      if (m) {
        const d = await request(t.url).get(`/interaction/${m[1]}/details`).set('Cookie', jar.header()).expect(200);
        const step = d.body.prompt === 'consent' ? 'consent' : 'login';
        const done = await request(t.url)
          .post(`/interaction/${m[1]}/${step}`)
          .set('Cookie', jar.header())
          .set('Authorization', `Bearer ${userToken}`)
          .expect(200);
        next = done.body.redirect_to;
        continue;
      }
      const r = await request(t.url).get(new URL(next, t.url).pathname).set('Cookie', jar.header());
      jar.take(r.headers['set-cookie']);
      if (r.status === 200) {
        expect(r.text).toContain('is signed in');
        break;
      }
      next = r.headers.location;
    }
    const tokens = await oc.pollDeviceAuthorizationGrant(config, device);
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: u.id, client_id: cli.client_id, scope: 'api:read' });
    await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);
  });

  it('ends the login session at RP-initiated logout and sends a back-channel logout token', async () => {
    const email = 'logout-user@test.example.org';
    const u = await h.createUser(email, 'researcher');
    const signIn = await h.login(email, PASSWORD);
    const redirect = 'http://127.0.0.1:9999/callback';
    const rp = await registerClient(t, adminToken, {
      name: 'Portal',
      redirect_uris: [redirect],
      post_logout_redirect_uris: ['http://127.0.0.1:9999/bye'],
      first_party: true,
      backchannel_logout_uri: `http://127.0.0.1:${bclPort}/backchannel`,
    });
    const config = await oc.discovery(
      new URL(t.url),
      rp.client_id,
      { client_secret: rp.client_secret },
      oc.ClientSecretBasic(rp.client_secret!),
      {
        execute: [oc.allowInsecureRequests],
      },
    );
    const jar = new CookieJar();
    jar.take([`auth_token=${signIn.access_token}`]);
    const { verifier, challenge } = pkce();
    const back = await authorize(t, {
      clientId: rp.client_id,
      redirectUri: redirect,
      scope: 'openid',
      userToken: signIn.access_token,
      challenge,
      jar,
    });
    const tokens = await oc.authorizationCodeGrant(config, back, {
      pkceCodeVerifier: verifier,
      expectedState: back.searchParams.get('state')!,
    });
    const idToken = tokens.id_token!;
    await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${signIn.access_token}`).expect(200);

    const end = oc.buildEndSessionUrl(config, {
      id_token_hint: idToken,
      post_logout_redirect_uri: 'http://127.0.0.1:9999/bye',
      state: 'bye',
    });
    const question = await request(t.url)
      .get(end.pathname + end.search)
      .set('Cookie', jar.header())
      .expect(200);
    jar.take(question.headers['set-cookie']);
    expect(question.text).toContain('Yes, sign me out');
    const confirm = await request(t.url)
      .post('/oauth/session/end/confirm')
      .set('Cookie', jar.header())
      .type('form')
      .send({ xsrf: hidden(question.text, 'xsrf'), logout: 'yes' })
      .expect(303);
    expect(confirm.headers.location).toBe('http://127.0.0.1:9999/bye?state=bye');
    // The service's own login session of that browser has ended too.
    await new Promise((r) => setTimeout(r, 300));
    await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${signIn.access_token}`).expect(401);
    // And the client was told by a signed logout token naming the user and the session.
    expect(logoutTokens.length).toBe(1);
    const claims = decodeJwt(logoutTokens[0]);
    expect(claims).toMatchObject({ iss: t.url, aud: rp.client_id, sub: u.id, sid: decodeJwt(idToken).sid });
    expect(claims.events).toEqual({ 'http://schemas.openid.net/event/backchannel-logout': {} });
  });
});
