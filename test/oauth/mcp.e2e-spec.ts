import request from 'supertest';
import { api, PASSWORD } from '../support/api';
import { TestApp } from '../support/harness';
import { CookieJar, pkce, startOAuthApp } from '../support/oauth';

type OpenIdClient = typeof import('openid-client');

/**
 * AI agents (MCP, API.md 15): an MCP client finds our authorization server from the API's protected
 * resource metadata (RFC 9728), registers itself (RFC 7591, only when OAUTH_DYNAMIC_REGISTRATION=on) as
 * a public client, and gets a token for our API with PKCE after the person's consent, asked every time.
 */
describe('OAuth provider for AI agents: protected resource metadata and dynamic registration (API.md 15)', () => {
  let oc: OpenIdClient;
  beforeAll(async () => {
    oc = await import('openid-client');
  });

  describe('OAUTH_DYNAMIC_REGISTRATION=on', () => {
    let t: TestApp;
    let userToken: string;
    beforeAll(async () => {
      t = await startOAuthApp({ OAUTH_DYNAMIC_REGISTRATION: 'on' });
      const h = api(t);
      await h.createUser('agent-owner@test.example.org', 'researcher');
      userToken = (await h.login('agent-owner@test.example.org', PASSWORD)).access_token;
    });
    afterAll(() => t?.close());

    it('describes our API as a protected resource whose authorization server is the provider', async () => {
      for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/api']) {
        const res = await request(t.url).get(path).expect(200);
        expect(res.body).toMatchObject({
          resource: `${t.url}/api`,
          authorization_servers: [t.url],
          scopes_supported: ['api:read', 'api:write'],
          bearer_methods_supported: ['header'],
        });
      }
      const as = (await request(t.url).get('/.well-known/oauth-authorization-server').expect(200)).body;
      expect(as.registration_endpoint).toBe(`${t.url}/oauth/reg`);
      expect(as.code_challenge_methods_supported).toEqual(['S256']);
    });

    it('registers a public MCP client, asks for consent every time, and issues a token our API accepts', async () => {
      const server = await oc.discovery(new URL(t.url), 'placeholder', undefined, oc.None(), {
        execute: [oc.allowInsecureRequests],
      });
      const redirect = 'http://127.0.0.1:33418/callback';
      const registered = await oc.dynamicClientRegistration(
        new URL(t.url),
        {
          client_name: 'Claude-like agent',
          redirect_uris: [redirect],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
          scope: 'openid api:read offline_access',
        },
        oc.None(),
        { execute: [oc.allowInsecureRequests] },
      );
      const clientId = registered.clientMetadata().client_id;
      expect(registered.clientMetadata().client_secret).toBeUndefined();
      const [row] = await t.db.query(`SELECT type, dynamic, first_party FROM oauth_clients WHERE client_id = $1`, [
        clientId,
      ]);
      expect(row).toEqual({ type: 'public', dynamic: true, first_party: false });
      expect(server.serverMetadata().issuer).toBe(t.url);

      const once = async () => {
        const jar = new CookieJar();
        const { verifier, challenge } = pkce();
        const q = new URLSearchParams({
          client_id: clientId,
          redirect_uri: redirect,
          response_type: 'code',
          scope: 'openid api:read',
          state: 's',
          code_challenge: challenge,
          code_challenge_method: 'S256',
          resource: `${t.url}/api`,
        });
        let res = await request(t.url).get(`/oauth/auth?${q}`).expect(303);
        jar.take(res.headers['set-cookie']);
        let prompts: string[] = [];
        let next: string = res.headers.location;
        for (let hop = 0; hop < 6 && next.startsWith('/interaction/'); hop++) {
          const uid = next.split('/')[2];
          const d = await request(t.url).get(`/interaction/${uid}/details`).set('Cookie', jar.header()).expect(200);
          prompts = [...prompts, d.body.prompt];
          const step = d.body.prompt === 'consent' ? 'consent' : 'login';
          const done = await request(t.url)
            .post(`/interaction/${uid}/${step}`)
            .set('Cookie', jar.header())
            .set('Authorization', `Bearer ${userToken}`)
            .expect(200);
          res = await request(t.url)
            .get(new URL(done.body.redirect_to).pathname)
            .set('Cookie', jar.header())
            .expect(303);
          jar.take(res.headers['set-cookie']);
          next = res.headers.location;
        }
        const code = new URL(next).searchParams.get('code')!;
        const tokens = (
          await request(t.url)
            .post('/oauth/token')
            .type('form')
            .send({
              grant_type: 'authorization_code',
              client_id: clientId,
              code,
              code_verifier: verifier,
              redirect_uri: redirect,
            })
            .expect(200)
        ).body;
        return { prompts, tokens };
      };
      const first = await once();
      expect(first.prompts).toEqual(['login', 'consent']);
      await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${first.tokens.access_token}`).expect(200);
      // In another browser, the same agent is asked for consent again.
      const second = await once();
      expect(second.prompts).toEqual(['login', 'consent']);
    });

    it.each([
      [
        'a confidential client',
        { token_endpoint_auth_method: 'client_secret_basic', redirect_uris: ['https://agent.example/cb'] },
        'invalid_client_metadata',
      ],
      ['plain http off loopback', { redirect_uris: ['http://agent.example/cb'] }, 'invalid_redirect_uri'],
      ['a redirect with a fragment', { redirect_uris: ['https://agent.example/cb#x'] }, 'invalid_redirect_uri'],
      [
        'client credentials',
        { redirect_uris: ['https://agent.example/cb'], grant_types: ['client_credentials'] },
        'invalid_client_metadata',
      ],
      [
        'an unknown scope',
        { redirect_uris: ['https://agent.example/cb'], scope: 'openid admin' },
        'invalid_client_metadata',
      ],
    ])('refuses to register %s, and stores nothing', async (_name, metadata, error) => {
      const before = (await t.db.query(`SELECT count(*)::int AS n FROM oauth_clients`))[0].n;
      const res = await request(t.url)
        .post('/oauth/reg')
        .send({ client_name: 'x', ...metadata });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe(error);
      expect((await t.db.query(`SELECT count(*)::int AS n FROM oauth_clients`))[0].n).toBe(before);
    });
  });

  describe('OAUTH_DYNAMIC_REGISTRATION off (the default)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startOAuthApp();
    });
    afterAll(() => t?.close());

    it('has no registration endpoint', async () => {
      const as = (await request(t.url).get('/.well-known/oauth-authorization-server').expect(200)).body;
      expect(as.registration_endpoint).toBeUndefined();
      const res = await request(t.url)
        .post('/oauth/reg')
        .send({ redirect_uris: ['https://agent.example/cb'] });
      expect(res.status).toBe(404);
      expect((await t.db.query(`SELECT count(*)::int AS n FROM oauth_clients`))[0].n).toBe(0);
    });

    it('refuses a client id metadata document that is not https', async () => {
      const { challenge } = pkce();
      const q = new URLSearchParams({
        client_id: 'http://agent.example/client.json',
        redirect_uri: 'http://127.0.0.1:1/cb',
        response_type: 'code',
        scope: 'openid',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      const res = await request(t.url).get(`/oauth/auth?${q}`);
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/invalid_client/);
    });
  });
});
