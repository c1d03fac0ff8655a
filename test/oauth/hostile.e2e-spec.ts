import request from 'supertest';
import { api, PASSWORD } from '../support/api';
import { TestApp } from '../support/harness';
import { authorize, CookieJar, pkce, registerClient, RegisteredClient, startOAuthApp } from '../support/oauth';

/** The hostile cases of API.md 15: each must fail, and change nothing. */
describe('OAuth provider: hostile requests (API.md 15)', () => {
  let t: TestApp;
  let adminToken: string;
  let userToken: string;
  let user: { id: string };
  let c: RegisteredClient;
  let other: RegisteredClient;
  const REDIRECT = 'http://127.0.0.1:9999/callback';

  beforeAll(async () => {
    t = await startOAuthApp();
    const h = api(t);
    adminToken = await h.adminToken();
    user = await h.createUser('victim@test.example.org', 'researcher');
    userToken = (await h.login('victim@test.example.org', PASSWORD)).access_token;
    c = await registerClient(t, adminToken, { name: 'Honest', redirect_uris: [REDIRECT], first_party: true });
    other = await registerClient(t, adminToken, {
      name: 'Other',
      redirect_uris: ['http://127.0.0.1:9998/cb'],
      first_party: true,
    });
  });
  afterAll(() => t?.close());

  const authUrl = (params: Record<string, string>) => {
    const { challenge } = pkce();
    const q = new URLSearchParams({
      client_id: c.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid',
      state: 's',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...params,
    });
    return `/oauth/auth?${q}`;
  };

  /** A code for `c`, with the verifier that redeems it. */
  const code = async (client = c, redirect = REDIRECT) => {
    const { verifier, challenge } = pkce();
    const back = await authorize(t, {
      clientId: client.client_id,
      redirectUri: redirect,
      scope: 'openid offline_access api:read',
      userToken,
      challenge,
      extra: { prompt: 'consent' },
    });
    return { code: back.searchParams.get('code')!, verifier };
  };
  const redeem = (client: RegisteredClient, body: Record<string, string>, redirect = REDIRECT) =>
    request(t.url)
      .post('/oauth/token')
      .auth(client.client_id, client.client_secret!)
      .type('form')
      .send({ grant_type: 'authorization_code', redirect_uri: redirect, ...body });

  describe('redirect URIs that are not registered byte for byte', () => {
    const tricks = [
      ['..;/', 'http://127.0.0.1:9999/callback/..;/evil'],
      ['userinfo @', 'http://127.0.0.1:9999@evil.example/callback'],
      ['localhost.evil', 'http://127.0.0.1.evil.example:9999/callback'],
      ['another port', 'http://127.0.0.1:9998/callback'],
      ['an extra parameter', 'http://127.0.0.1:9999/callback?x=1'],
      ['a fragment', 'http://127.0.0.1:9999/callback#x'],
      ['a trailing slash', 'http://127.0.0.1:9999/callback/'],
      ['another case', 'http://127.0.0.1:9999/Callback'],
    ];
    it.each(tricks)('refuses %s at the authorization endpoint, without redirecting', async (_name, uri) => {
      const res = await request(t.url).get(authUrl({ redirect_uri: uri }));
      expect(res.status).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(res.text).toMatch(/invalid_redirect_uri|redirect_uri/);
    });

    it.each([
      ['..;/', 'https://app.example/cb/..;/x'],
      ['userinfo', 'https://user@app.example/cb'],
      ['a fragment', 'https://app.example/cb#f'],
      ['a wildcard', 'https://*.app.example/cb'],
      ['http off loopback', 'http://app.example/cb'],
      ['localhost.evil', 'http://localhost.evil/cb'],
      ['an encoded dot', 'https://app.example/cb/%2e%2e/x'],
      ['not canonical', 'HTTPS://app.example/cb'],
      ['a relative URL', '/cb'],
    ])('refuses to register %s', async (_name, uri) => {
      const before = (await t.db.query(`SELECT count(*)::int AS n FROM oauth_clients`))[0].n;
      const res = await request(t.url)
        .post('/api/oauth/clients')
        .set('Authorization', `Bearer ${adminToken}`)
        .send({
          name: 'x',
          type: 'public',
          redirect_uris: [uri],
          grant_types: ['authorization_code'],
          scopes: ['openid'],
        });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect((await t.db.query(`SELECT count(*)::int AS n FROM oauth_clients`))[0].n).toBe(before);
    });
  });

  it('refuses response_type=token (no implicit grant) and code_challenge_method=plain', async () => {
    const implicit = await request(t.url).get(authUrl({ response_type: 'token' }));
    expect(implicit.status).toBeGreaterThanOrEqual(300);
    expect(`${implicit.headers.location ?? ''}${implicit.text}`).toMatch(/unsupported_response_type/);
    const plain = await request(t.url).get(authUrl({ code_challenge_method: 'plain', code_challenge: 'a'.repeat(43) }));
    expect(`${plain.headers.location ?? ''}${plain.text}`).toMatch(/invalid_request/);
    const none = await request(t.url).get(authUrl({ code_challenge: '', code_challenge_method: '' }));
    expect(`${none.headers.location ?? ''}${none.text}`).toMatch(/invalid_request/);
  });

  it('refuses grant_type=password', async () => {
    const res = await request(t.url)
      .post('/oauth/token')
      .auth(c.client_id, c.client_secret!)
      .type('form')
      .send({ grant_type: 'password', username: 'victim@test.example.org', password: PASSWORD });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unsupported_grant_type');
  });

  it('refuses a code without its verifier, and one redeemed by another client', async () => {
    const a = await code();
    const noVerifier = await redeem(c, { code: a.code });
    expect(noVerifier.body.error).toBe('invalid_grant');
    const b = await code();
    const stolen = await redeem(other, { code: b.code, code_verifier: b.verifier });
    expect(stolen.body.error).toBe('invalid_grant');
  });

  it('refuses a code used twice, and revokes what its first use issued', async () => {
    const a = await code();
    const first = await redeem(c, { code: a.code, code_verifier: a.verifier }).expect(200);
    await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${first.body.access_token}`).expect(200);
    const second = await redeem(c, { code: a.code, code_verifier: a.verifier });
    expect(second.body.error).toBe('invalid_grant');
    await new Promise((r) => setTimeout(r, 1100));
    await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${first.body.access_token}`).expect(401);
    const refresh = await request(t.url)
      .post('/oauth/token')
      .auth(c.client_id, c.client_secret!)
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('gives one code to one of ten racing redemptions, and revokes what it issued', async () => {
    const a = await code();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => redeem(c, { code: a.code, code_verifier: a.verifier })),
    );
    const ok = answers.filter((r) => r.status === 200);
    expect(ok.length).toBeLessThanOrEqual(1);
    expect(answers.filter((r) => r.status !== 200).every((r) => r.body.error === 'invalid_grant')).toBe(true);
    await new Promise((r) => setTimeout(r, 1100));
    for (const r of ok) {
      await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${r.body.access_token}`).expect(401);
    }
  });

  it("refuses one client's refresh token to another", async () => {
    const a = await code();
    const tokens = (await redeem(c, { code: a.code, code_verifier: a.verifier }).expect(200)).body;
    const res = await request(t.url)
      .post('/oauth/token')
      .auth(other.client_id, other.client_secret!)
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(res.body.error).toBe('invalid_grant');
  });

  it('refuses an ID token hint of another client at logout', async () => {
    const a = await code();
    const tokens = (await redeem(c, { code: a.code, code_verifier: a.verifier }).expect(200)).body;
    const res = await request(t.url).get(
      `/oauth/session/end?${new URLSearchParams({ id_token_hint: tokens.id_token, client_id: other.client_id })}`,
    );
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/invalid_request|client_id/);
  });

  it('refuses a code of a client disabled since it was issued, and the tokens it had', async () => {
    const victim = await registerClient(t, adminToken, {
      name: 'Soon disabled',
      redirect_uris: [REDIRECT],
      first_party: true,
    });
    const a = await code(victim);
    const b = await code(victim);
    const tokens = (await redeem(victim, { code: b.code, code_verifier: b.verifier }).expect(200)).body;
    await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);
    await request(t.url)
      .delete(`/api/oauth/clients/${victim.client_id}`)
      .set('Authorization', `Bearer ${adminToken}`)
      .expect(204);
    const res = await redeem(victim, { code: a.code, code_verifier: a.verifier });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    await new Promise((r) => setTimeout(r, 1100));
    await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(401);
  });

  it('refuses the tokens of a user disabled since they were issued', async () => {
    const h = api(t);
    const gone = await h.createUser('soon-gone@test.example.org', 'researcher');
    const goneToken = (await h.login('soon-gone@test.example.org', PASSWORD)).access_token;
    const { verifier, challenge } = pkce();
    const back = await authorize(t, {
      clientId: c.client_id,
      redirectUri: REDIRECT,
      scope: 'openid offline_access api:read',
      userToken: goneToken,
      challenge,
      extra: { prompt: 'consent' },
      jar: new CookieJar(),
    });
    const tokens = (await redeem(c, { code: back.searchParams.get('code')!, code_verifier: verifier }).expect(200))
      .body;
    await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);
    await request(t.url)
      .patch(`/api/users/${gone.id}`)
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ is_active: false })
      .expect(200);
    await new Promise((r) => setTimeout(r, 1100));
    await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(401);
    const refresh = await request(t.url)
      .post('/oauth/token')
      .auth(c.client_id, c.client_secret!)
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(refresh.body.error).toBe('invalid_grant');
    const introspect = await request(t.url)
      .post('/oauth/token/introspection')
      .auth(c.client_id, c.client_secret!)
      .type('form')
      .send({ token: tokens.access_token });
    expect(introspect.body).toEqual({ active: false });
  });

  it('refuses a token signed by another key, or for another audience, on our API', async () => {
    const forged = `${Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: 'oauth-unknownkid1234567' })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: user.id, iss: t.url, aud: `${t.url}/api`, exp: 9999999999, jti: 'x', scope: 'api:write' })).toString('base64url')}.AAAA`;
    const res = await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${forged}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/Bearer/);
  });
});
