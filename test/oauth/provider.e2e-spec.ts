import request from 'supertest';
import { api, decodeJwt, PASSWORD } from '../support/api';
import { TestApp } from '../support/harness';
import { authorize, pkce, registerClient, startOAuthApp } from '../support/oauth';

type OpenIdClient = typeof import('openid-client');

describe('the OAuth 2.1 / OpenID Connect provider (API.md 15)', () => {
  let t: TestApp;
  let oc: OpenIdClient;
  let adminToken: string;
  let user: { id: string };
  let userToken: string;

  beforeAll(async () => {
    oc = await import('openid-client');
    t = await startOAuthApp();
    const h = api(t);
    adminToken = await h.adminToken();
    user = await h.createUser('rp-user@test.example.org', 'researcher');
    userToken = (await h.login('rp-user@test.example.org', PASSWORD)).access_token;
  });
  afterAll(() => t?.close());

  const discover = (clientId: string, secret?: string) =>
    oc.discovery(
      new URL(t.url),
      clientId,
      secret ? { client_secret: secret } : undefined,
      secret ? oc.ClientSecretBasic(secret) : oc.None(),
      { execute: [oc.allowInsecureRequests] },
    );

  it('serves discovery at both addresses, naming S256 only and the service JWKS', async () => {
    const a = (await request(t.url).get('/.well-known/openid-configuration').expect(200)).body;
    const b = (await request(t.url).get('/.well-known/oauth-authorization-server').expect(200)).body;
    expect(a).toEqual(b);
    expect(a).toMatchObject({
      issuer: t.url,
      authorization_endpoint: `${t.url}/oauth/auth`,
      token_endpoint: `${t.url}/oauth/token`,
      jwks_uri: `${t.url}/.well-known/jwks.json`,
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
    });
    expect(a.introspection_endpoint).toBe(`${t.url}/oauth/token/introspection`);
    expect(a.revocation_endpoint).toBe(`${t.url}/oauth/token/revocation`);
    expect(a.end_session_endpoint).toBe(`${t.url}/oauth/session/end`);
    expect(a.device_authorization_endpoint).toBe(`${t.url}/oauth/device/auth`);
    expect(a.id_token_signing_alg_values_supported).toEqual(['ES256', 'RS256']);
    expect(a.grant_types_supported).not.toContain('password');
    expect(a.grant_types_supported).not.toContain('implicit');
    const jwks = (await request(t.url).get('/.well-known/jwks.json').expect(200)).body.keys as {
      alg: string;
      kid: string;
    }[];
    expect(jwks.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    expect(jwks.every((k) => !('d' in k))).toBe(true);
  });

  it('registers a confidential client, shows its secret once and keeps only a hash', async () => {
    const c = await registerClient(t, adminToken, {
      name: 'Pipeline',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      scopes: ['api:read'],
    });
    expect(c.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [row] = await t.db.query(`SELECT secret_hash FROM oauth_clients WHERE client_id = $1`, [c.client_id]);
    expect(row.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(c.client_secret);
    const got = await request(t.url)
      .get(`/api/oauth/clients/${c.client_id}`)
      .set('Authorization', `Bearer ${adminToken}`)
      .expect(200);
    expect(got.body.client_secret).toBeUndefined();
    expect(t.logs.text).not.toContain(c.client_secret);
  });

  it('issues client-credentials tokens to a confidential client, introspects and revokes them', async () => {
    const c = await registerClient(t, adminToken, {
      name: 'CI',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      scopes: ['api:read'],
    });
    const config = await discover(c.client_id, c.client_secret);
    const tokens = await oc.clientCredentialsGrant(config, { scope: 'api:read' });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({ iss: t.url, aud: `${t.url}/api`, client_id: c.client_id, scope: 'api:read' });
    const active = await oc.tokenIntrospection(config, tokens.access_token);
    expect(active.active).toBe(true);
    await oc.tokenRevocation(config, tokens.access_token);
    expect((await oc.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
    expect(active).toMatchObject({ client_id: c.client_id, scope: 'api:read', token_type: 'Bearer' });
    // A wrong secret is refused.
    const wrong = await request(t.url)
      .post('/oauth/token')
      .auth(c.client_id, 'x'.repeat(43))
      .type('form')
      .send({ grant_type: 'client_credentials', scope: 'api:read' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
  });

  it('runs the authorization code flow with PKCE, consent, ID token, userinfo and refresh', async () => {
    const redirect = 'http://127.0.0.1:9999/callback';
    const c = await registerClient(t, adminToken, { name: 'Dashboard', redirect_uris: [redirect] });
    const config = await discover(c.client_id, c.client_secret);
    const { verifier, challenge } = pkce();
    const back = await authorize(t, {
      clientId: c.client_id,
      redirectUri: redirect,
      scope: 'openid profile email offline_access',
      userToken,
      challenge,
      // OpenID Connect gives offline_access (a refresh token) only with prompt=consent.
      extra: { nonce: 'n-0S6_WzA2Mj', prompt: 'consent' },
    });
    const state = back.searchParams.get('state')!;
    const tokens = await oc.authorizationCodeGrant(config, back, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: 'n-0S6_WzA2Mj',
    });
    const id = tokens.claims()!;
    expect(id).toMatchObject({ sub: user.id, iss: t.url, aud: c.client_id, acr: 'aal1' });
    expect(id.auth_time).toEqual(expect.any(Number));
    expect(id.sid).toEqual(expect.any(String));
    expect(id.amr).toEqual(['pwd']);
    expect(tokens.refresh_token).toBeDefined();
    const info = await oc.fetchUserInfo(config, tokens.access_token, user.id);
    expect(info).toMatchObject({
      sub: user.id,
      email: 'rp-user@test.example.org',
      email_verified: expect.any(Boolean),
    });
    const refreshed = await oc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    const audit = await t.db.query(`SELECT event FROM audit_events WHERE event LIKE 'oauth_%' ORDER BY at`);
    expect(audit.map((r: { event: string }) => r.event)).toEqual(
      expect.arrayContaining(['oauth_client_created', 'oauth_consent_granted', 'oauth_token_issued']),
    );
  });

  it('accepts its access tokens on our API as delegated credentials within their scopes', async () => {
    const redirect = 'http://127.0.0.1:9999/cb-api';
    const c = await registerClient(t, adminToken, { name: 'Agent', redirect_uris: [redirect], first_party: true });
    const config = await discover(c.client_id, c.client_secret);
    const read = async (scope: string) => {
      const { verifier, challenge } = pkce();
      const back = await authorize(t, { clientId: c.client_id, redirectUri: redirect, scope, userToken, challenge });
      return oc.authorizationCodeGrant(config, back, {
        pkceCodeVerifier: verifier,
        expectedState: back.searchParams.get('state')!,
      });
    };
    const reader = await read('openid api:read');
    const header = JSON.parse(Buffer.from(reader.access_token.split('.')[0], 'base64url').toString());
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    expect(decodeJwt(reader.access_token)).toMatchObject({ aud: `${t.url}/api`, sub: user.id, scope: 'api:read' });
    const me = await request(t.url)
      .get('/api/auth/me')
      .set('Authorization', `Bearer ${reader.access_token}`)
      .expect(200);
    expect(me.body.id ?? me.body.user?.id).toBe(user.id);
    // api:read only reads.
    await request(t.url).get('/v1/spaces').set('Authorization', `Bearer ${reader.access_token}`).expect(200);
    const write = await request(t.url)
      .post('/v1/spaces')
      .set('Authorization', `Bearer ${reader.access_token}`)
      .send({ name: 'x' });
    expect(write.status).toBe(403);
    // Routes that take only sign-in JWTs (creating an API key) refuse it as any other delegated credential.
    await request(t.url)
      .post('/api/api-keys')
      .set('Authorization', `Bearer ${reader.access_token}`)
      .send({ name: 'x' })
      .expect(401);
    // A delegated credential never changes how the account is protected, whatever its scopes.
    const writer = await read('openid api:read api:write');
    const sensitive = await request(t.url)
      .post('/api/oauth/clients')
      .set('Authorization', `Bearer ${writer.access_token}`)
      .send({ name: 'x', type: 'public', redirect_uris: [], grant_types: ['authorization_code'], scopes: [] });
    expect(sensitive.status).toBe(403);
    expect(sensitive.body.error.code).toBe('SIGN_IN_REQUIRED');
    // With api:write it may change data.
    await request(t.url)
      .post('/v1/spaces')
      .set('Authorization', `Bearer ${writer.access_token}`)
      .send({ name: 'made by an agent' })
      .expect(201);
  });

  it('starts with another JWT_SECRET: keys it cannot open retire, new ones sign, the old stay published', async () => {
    const before = ((await request(t.url).get('/.well-known/jwks.json').expect(200)).body.keys as { kid: string }[])
      .map((k) => k.kid)
      .filter((k) => k.startsWith('oauth-'));
    const other = await startOAuthApp({ JWT_SECRET: 'another-e2e-secret-0123456789abcdefghijkl', KEEP_DATABASE: '1' });
    try {
      const kids = (
        (await request(other.url).get('/.well-known/jwks.json').expect(200)).body.keys as { kid: string }[]
      ).map((k) => k.kid);
      expect(kids).toEqual(expect.arrayContaining(before));
      expect(kids.filter((k) => k.startsWith('oauth-')).length).toBe(before.length + 2);
      const c = await registerClient(other, await api(other).adminToken(), {
        name: 'After the new secret',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        scopes: ['api:read'],
      });
      const res = await request(other.url)
        .post('/oauth/token')
        .auth(c.client_id, c.client_secret!)
        .type('form')
        .send({ grant_type: 'client_credentials', scope: 'api:read' })
        .expect(200);
      const kid = JSON.parse(Buffer.from(res.body.access_token.split('.')[0], 'base64url').toString()).kid;
      expect(before).not.toContain(kid);
    } finally {
      await other.close();
    }
  });
});
