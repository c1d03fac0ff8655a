import { Secret, TOTP } from 'otpauth';
import { ADMIN_EMAIL } from './harness';
import {
  Browser,
  CLIENT_ID,
  CLIENT_SECRET,
  control,
  decodeJwt,
  jwksFetches,
  SsoStack,
  startSsoStack,
  TENANT_A,
  TENANT_B,
} from './sso-harness';

/**
 * API.md 7 with OpenID Connect, against real providers on loopback (test/idp/oidc-idp.mjs: oidc-provider for
 * the generic, Google-like and Entra-like providers, a hand-written hostile one), and the built service.
 */
describe('single sign-on with OpenID Connect', () => {
  let s: SsoStack;
  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(`${s.svc.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    });
    const text = await res.text();
    let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, body: json, headers: res.headers };
  };
  const admin = (method: string, path: string, body?: unknown) => call(method, path, body, s.adminToken);
  const register = (body: Record<string, unknown>) =>
    admin('POST', '/api/sso/providers', {
      type: 'oidc',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      default_role: 'researcher',
      ...body,
    });
  const accounts = (a: Record<string, Record<string, unknown>>) => control(s.idp, { accounts: a });

  /** The whole dance: the portal's link, the provider's login form, back to the portal with ?code or ?error. */
  const signIn = async (provider: string, login: string, browser = new Browser(), redirect = `${s.portal}/sso`) => {
    const start = `${s.svc.url}/api/sso/${provider}/login?redirect_uri=${encodeURIComponent(redirect)}`;
    const back = await browser.signIn(start, [s.portal, s.otherPortal], login);
    return { back, code: back.searchParams.get('code'), error: back.searchParams.get('error'), browser };
  };
  const exchange = (code: string | null, extra: Record<string, unknown> = {}) =>
    call('POST', '/api/sso/token', { code, ...extra });

  beforeAll(async () => {
    s = await startSsoStack();
    await accounts({
      'ada@uni.example': { email: 'ada@uni.example', email_verified: true, given_name: 'Ada', family_name: 'L' },
    });
  }, 90_000);
  afterAll(() => s?.close());

  it('registers a generic provider, signs a new user in through its login form and provisions them', async () => {
    const reg = await register({ id: 'generic', name: 'Uni', issuer: `${s.idp.url}/generic`, domains: ['uni.example'] });
    expect(reg.status).toBe(201);
    expect(reg.body).not.toHaveProperty('client_secret');
    const { code, error } = await signIn('generic', 'ada@uni.example');
    expect(error).toBeNull();
    const res = await exchange(code);
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ email: 'ada@uni.example', role: 'researcher' });
    expect(decodeJwt(res.body.access_token)).toMatchObject({ amr: ['fed'], aal: 'aal1' });
  });
});
