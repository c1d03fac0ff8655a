import request from 'supertest';
import { api } from '../support/api';
import { TestApp } from '../support/harness';
import { registerClient, startOAuthApp } from '../support/oauth';

/**
 * Every POST of the protocol checks a secret (a client secret, a code, a refresh token, a device or user
 * code), so each is counted per address before the provider checks it (RATE_LIMIT_OAUTH): beyond the
 * limit even the right secret gets 429, and nothing is issued.
 */
describe('OAuth provider: the per-address limit of its POSTs (RATE_LIMIT_OAUTH)', () => {
  let t: TestApp;
  let adminToken: string;

  beforeAll(async () => {
    t = await startOAuthApp({ RATE_LIMIT_OAUTH: '3/1m' });
    adminToken = await api(t).adminToken();
  });
  afterAll(() => t?.close());

  const token = (clientId: string, secret: string) =>
    request(t.url)
      .post('/oauth/token')
      .auth(clientId, secret)
      .type('form')
      .send({ grant_type: 'client_credentials', scope: 'api:read' });

  it('counts wrong secrets before checking them, then refuses even the right one with 429 and Retry-After', async () => {
    const c = await registerClient(t, adminToken, {
      name: 'Pipeline',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      scopes: ['api:read'],
    });
    for (let i = 0; i < 3; i++) {
      const wrong = await token(c.client_id, 'x'.repeat(43));
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toBe('invalid_client');
    }
    const [{ issued: before }] = await t.db.query(
      `SELECT count(*)::int AS issued FROM audit_events WHERE event = 'oauth_token_issued'`,
    );
    const limited = await token(c.client_id, c.client_secret!);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['cache-control']).toBe('no-store');
    expect(limited.body).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'Too many requests from this address; try again later',
    });
    expect(limited.body.access_token).toBeUndefined();
    const [{ issued: after }] = await t.db.query(
      `SELECT count(*)::int AS issued FROM audit_events WHERE event = 'oauth_token_issued'`,
    );
    expect(after).toBe(before);
    // What reads no secret is not counted: discovery and the key set still answer.
    await request(t.url).get('/.well-known/openid-configuration').expect(200);
    await request(t.url).get('/oauth/jwks').expect(200);
  });
});
