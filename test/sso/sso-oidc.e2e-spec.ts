import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { Client } from 'pg';
import { workerDatabaseUrl } from '../support/harness';
import {
  Browser,
  callApi,
  CLIENT_ID,
  CLIENT_SECRET,
  control,
  decodeJwt,
  jwksFetches,
  SsoStack,
  startSsoStack,
  TENANT_A,
  TENANT_B,
} from '../support/sso-harness';

/**
 * API.md 7 with OpenID Connect, against real providers on loopback (test/support/idp/oidc-idp.mjs: oidc-provider for
 * the generic, Google-like and Entra-like providers, a hand-written hostile one), and the built service.
 */
describe('single sign-on with OpenID Connect', () => {
  let s: SsoStack;
  const call = (method: string, path: string, body?: unknown, token?: string) =>
    callApi(s.svc.url, method, path, body, token);
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
  /** The browser each code came back to: only that browser can exchange it (API.md 12). */
  const browserOf = new Map<string, Browser>();
  const signIn = async (provider: string, login: string, browser = new Browser(), redirect = `${s.portal}/sso`) => {
    const start = `${s.svc.url}/api/sso/${provider}/login?redirect_uri=${encodeURIComponent(redirect)}`;
    const back = await browser.signIn(start, [s.portal, s.otherPortal], login);
    const code = back.searchParams.get('code');
    if (code) browserOf.set(code, browser);
    return { back, code, error: back.searchParams.get('error'), browser };
  };
  /** The portal page exchanges the code from the browser it came back to (the binding cookie goes along). */
  const exchange = (code: string | null, extra: Record<string, unknown> = {}, browser = browserOf.get(code ?? '')) =>
    callApi(
      s.svc.url,
      'POST',
      '/api/sso/token',
      { code, ...extra },
      undefined,
      browser?.cookieHeader(new URL(`${s.svc.url}/api/sso/token`)),
    );

  /** The mail the service wrote for an address (no SMTP_URL: DATA_DIR/mail/*.txt), the newest first. */
  const mailedText = async (to: string, containing: string): Promise<string> => {
    for (let i = 0; i < 50; i++) {
      const dir = join(s.dataDir, 'mail');
      const texts = existsSync(dir)
        ? readdirSync(dir)
            .filter((f) => f.endsWith('.txt'))
            .sort()
            .reverse()
            .map((f) => readFileSync(join(dir, f), 'utf8'))
        : [];
      const found = texts.find((m) => m.startsWith(`To: ${to}\n`) && m.includes(containing));
      if (found) return found;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no mail to ${to} with ${containing}`);
  };
  const mailedToken = async (to: string, path: string) =>
    new RegExp(`${path}\\?token=([A-Za-z0-9_-]{43})`).exec(await mailedText(to, `${path}?token=`))![1];

  beforeAll(async () => {
    s = await startSsoStack();
    await accounts({
      'ada@uni.example': { email: 'ada@uni.example', email_verified: true, given_name: 'Ada', family_name: 'L' },
    });
  }, 90_000);
  afterAll(() => s?.close());

  const userCount = async () => (await admin('GET', '/api/users?limit=100')).body.total as number;
  const auditEvents = async (event: string) =>
    (await admin('GET', `/api/audit?event=${event}&limit=100`)).body.items as { user_id: string; details: any }[]; // eslint-disable-line @typescript-eslint/no-explicit-any

  describe('the providers registry (admin)', () => {
    it('registers an OIDC provider after reading its discovery document, and never returns the secret', async () => {
      const reg = await register({
        id: 'generic',
        name: 'Uni',
        issuer: `${s.idp.url}/generic`,
        domains: ['Uni.Example'],
      });
      expect(reg.status).toBe(201);
      expect(reg.body).toMatchObject({
        id: 'generic',
        type: 'oidc',
        domains: ['uni.example'],
        default_role: 'researcher',
        redirect_uri: `${s.svc.url}/api/sso/generic/callback`,
      });
      expect(JSON.stringify(reg.body)).not.toContain(CLIENT_SECRET);
      const list = await admin('GET', '/api/sso/providers');
      expect(list.status).toBe(200);
      expect(list.body.map((p: { id: string }) => p.id)).toContain('generic');
      expect(JSON.stringify(list.body)).not.toContain(CLIENT_SECRET);
      const one = await admin('GET', '/api/sso/providers/generic');
      expect(one.status).toBe(200);
      expect(one.body).not.toHaveProperty('client_secret');
      // Sealed at rest: the row holds ciphertext, not the secret.
      const db = new Client({ connectionString: workerDatabaseUrl() });
      await db.connect();
      try {
        const { rows } = await db.query(`SELECT client_secret_enc FROM sso_providers WHERE id = 'generic'`);
        expect(rows[0].client_secret_enc.length).toBeGreaterThan(29);
        expect(JSON.stringify(await db.query(`SELECT * FROM sso_providers`).then((r) => r.rows))).not.toContain(
          CLIENT_SECRET,
        );
        expect(Buffer.from(rows[0].client_secret_enc).toString('utf8')).not.toContain(CLIENT_SECRET);
      } finally {
        await db.end();
      }
    });

    it('refuses an issuer whose discovery fails, and says why', async () => {
      const res = await register({ id: 'broken', name: 'B', issuer: `${s.idp.url}/nowhere`, domains: ['b.example'] });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(res.body.error.details.issuer).toMatch(/discovery document could not be used: .+/);
      expect((await admin('GET', '/api/sso/providers/broken')).status).toBe(404);
    });

    it('refuses plain http to a host that is not loopback, missing fields and bad values', async () => {
      const http = await register({ id: 'far', name: 'F', issuer: 'http://idp.example.org', domains: ['f.example'] });
      expect(http.status).toBe(400);
      expect(http.body.error.details.issuer).toMatch(/https/);
      const missing = await admin('POST', '/api/sso/providers', {
        id: 'x',
        type: 'oidc',
        name: 'X',
        domains: ['x.example'],
        default_role: 'viewer',
      });
      expect(missing.status).toBe(400);
      expect(Object.keys(missing.body.error.details)).toEqual(
        expect.arrayContaining(['issuer', 'client_id', 'client_secret']),
      );
      const bad = await admin('POST', '/api/sso/providers', {
        id: 'Not A Slug',
        type: 'ldap',
        domains: ['nodot'],
        default_role: 'king',
      });
      expect(bad.status).toBe(400);
      expect(Object.keys(bad.body.error.details)).toEqual(
        expect.arrayContaining(['id', 'type', 'domains', 'default_role']),
      );
      const entra = await register({
        id: 'e',
        name: 'E',
        kind: 'entra',
        issuer: `${s.idp.url}/organizations/v2.0`,
        domains: ['e.example'],
      });
      expect(entra.status).toBe(400);
      expect(entra.body.error.details.allowed_tenants).toBeDefined();
    });

    it('answers 409 for an id already registered', async () => {
      const res = await register({
        id: 'generic',
        name: 'Again',
        issuer: `${s.idp.url}/generic`,
        domains: ['again.example'],
      });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('CONFLICT');
    });

    it('changes a provider with PATCH, refuses a new type, and 404s an unknown one', async () => {
      const res = await admin('PATCH', '/api/sso/providers/generic', { name: 'University of Example' });
      expect(res.status).toBe(200);
      expect(res.body.name).toBe('University of Example');
      expect((await admin('PATCH', '/api/sso/providers/generic', { type: 'saml' })).status).toBe(400);
      expect((await admin('PATCH', '/api/sso/providers/nope', { name: 'x' })).status).toBe(404);
      expect((await admin('GET', '/api/sso/providers/nope')).status).toBe(404);
      expect((await admin('DELETE', '/api/sso/providers/nope')).status).toBe(404);
    });

    it('is for admins: 401 without a token, 403 for another role', async () => {
      expect((await call('GET', '/api/sso/providers')).status).toBe(401);
      const user = await admin('POST', '/api/auth/register', {
        email: 'viewer@test.example.org',
        password: 'Quartz-Meadow-2931',
        role: 'viewer',
      });
      expect(user.status).toBe(201);
      const login = await call('POST', '/api/auth/login', {
        username: 'viewer@test.example.org',
        password: 'Quartz-Meadow-2931',
      });
      const res = await call('POST', '/api/sso/providers', { id: 'v' }, login.body.access_token);
      expect(res.status).toBe(403);
      expect((await call('GET', '/api/sso/providers', undefined, login.body.access_token)).status).toBe(403);
    });

    it('deletes a provider (204), after which it is gone', async () => {
      expect(
        (await register({ id: 'generic-two', name: 'Two', issuer: `${s.idp.url}/generic`, domains: ['two.example'] }))
          .status,
      ).toBe(201);
      expect((await admin('DELETE', '/api/sso/providers/generic-two')).status).toBe(204);
      expect((await admin('GET', '/api/sso/providers/generic-two')).status).toBe(404);
      expect(
        (await call('GET', '/api/sso/generic-two/login?redirect_uri=' + encodeURIComponent(s.portal))).status,
      ).toBe(404);
    });
  });

  describe('discover and login', () => {
    it('names the provider of an address domain, 404 for another domain, 400 for a non-address', async () => {
      const res = await call('GET', '/api/sso/discover?email=Someone%40UNI.example');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ provider: 'generic', name: 'University of Example', type: 'oidc' });
      const none = await call('GET', '/api/sso/discover?email=someone%40elsewhere.example');
      expect(none.status).toBe(404);
      expect(none.body.error.code).toBe('NOT_FOUND');
      expect((await call('GET', '/api/sso/discover?email=nope')).status).toBe(400);
    });

    it('sends the browser to the provider with PKCE S256, state and nonce, bound by an HttpOnly cookie', async () => {
      const browser = new Browser();
      const res = await browser.request(
        `${s.svc.url}/api/sso/generic/login?redirect_uri=${encodeURIComponent(`${s.portal}/x`)}`,
      );
      expect(res.status).toBe(302);
      const to = new URL(res.headers.get('location')!);
      expect(to.href.startsWith(`${s.idp.url}/generic/auth`)).toBe(true);
      expect(to.searchParams.get('code_challenge_method')).toBe('S256');
      expect(to.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(to.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(to.searchParams.get('nonce')).toBeTruthy();
      expect(to.searchParams.get('client_id')).toBe(CLIENT_ID);
      expect(to.searchParams.get('redirect_uri')).toBe(`${s.svc.url}/api/sso/generic/callback`);
      const cookie = browser.cookie('sso_browser');
      expect(cookie).toMatchObject({ httpOnly: true, path: '/api/sso' });
    });

    it('accepts a redirect_uri at an origin of SSO_REDIRECT_ORIGINS', async () => {
      const res = await call(
        'GET',
        `/api/sso/generic/login?redirect_uri=${encodeURIComponent(`${s.otherPortal}/done`)}`,
      );
      expect(res.status).toBe(302);
    });

    it('refuses a redirect_uri to another origin, outside PORTAL_URL, or missing (400), and an unknown provider (404)', async () => {
      for (const uri of [
        'https://evil.example/steal',
        `${s.portal.replace('/app', '')}/elsewhere`,
        'javascript:alert(1)',
      ]) {
        const res = await call('GET', `/api/sso/generic/login?redirect_uri=${encodeURIComponent(uri)}`);
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('VALIDATION_ERROR');
        expect(res.headers.get('location')).toBeNull();
      }
      expect((await call('GET', '/api/sso/generic/login')).status).toBe(400);
      const unknown = await call('GET', `/api/sso/nope/login?redirect_uri=${encodeURIComponent(s.portal)}`);
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe('NOT_FOUND');
    });
  });

  describe('a generic provider', () => {
    let adaId: string;

    it('signs a new user in through the provider login form and provisions them with default_role', async () => {
      const before = await userCount();
      const { back, code, error } = await signIn('generic', 'ada@uni.example');
      expect(error).toBeNull();
      expect(back.href.startsWith(`${s.portal}/sso?code=`)).toBe(true);
      const res = await exchange(code);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ token_type: 'bearer', expires_in: 86400, refresh_token: expect.any(String) });
      expect(res.body.user).toMatchObject({ email: 'ada@uni.example', role: 'researcher', first_name: 'Ada' });
      expect(decodeJwt(res.body.access_token)).toMatchObject({ amr: ['fed'], aal: 'aal1' });
      expect(await userCount()).toBe(before + 1);
      const me = await call('GET', '/api/auth/me', undefined, res.body.access_token);
      expect(me.status).toBe(200);
      adaId = me.body.id;
      expect((await auditEvents('sso_user_provisioned')).some((e) => e.user_id === adaId)).toBe(true);
      expect(
        (await auditEvents('sso_login')).some((e) => e.user_id === adaId && e.details.provider === 'generic'),
      ).toBe(true);
    });

    it('signs the same user in again by the link, and never changes the role an admin gave', async () => {
      expect((await admin('PATCH', `/api/users/${adaId}/role`, { role: 'coordinator' })).status).toBe(200);
      const before = await userCount();
      const { code } = await signIn('generic', 'ada@uni.example');
      const res = await exchange(code, { remember: true });
      expect(res.status).toBe(200);
      expect(res.body.user).toMatchObject({ id: adaId, role: 'coordinator' });
      expect(res.body.expires_in).toBe(30 * 86400);
      expect(await userCount()).toBe(before);
    });

    it('refuses a one-time code used twice, and an unknown or missing code', async () => {
      const { code } = await signIn('generic', 'ada@uni.example');
      expect((await exchange(code)).status).toBe(200);
      const again = await exchange(code);
      expect(again.status).toBe(401);
      expect(again.body.error.code).toBe('INVALID_TOKEN');
      expect((await exchange('x'.repeat(43))).status).toBe(401);
      const missing = await call('POST', '/api/sso/token', {});
      expect(missing.status).toBe(400);
      expect(missing.body.error.code).toBe('VALIDATION_ERROR');
    });

    it('refuses a code exchanged from another browser than the one that signed in (login CSRF), without spending it', async () => {
      // The attacker signs in at the provider, then plants their code in the victim's browser (/account?code=).
      const { code } = await signIn('generic', 'ada@uni.example');
      const victim = new Browser();
      const planted = await exchange(code, {}, victim);
      expect(planted.status).toBe(401);
      expect(planted.body.error.code).toBe('INVALID_TOKEN');
      const bare = await call('POST', '/api/sso/token', { code });
      expect(bare.status).toBe(401);
      // The browser that started the sign-in still can.
      expect((await exchange(code)).status).toBe(200);
    });

    it('sets the auth cookies with set_cookie, as POST /api/auth/login does', async () => {
      const { code, browser } = await signIn('generic', 'ada@uni.example');
      const res = await fetch(`${s.svc.url}/api/sso/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          cookie: browser.cookieHeader(new URL(`${s.svc.url}/api/sso/token`)),
        },
        body: JSON.stringify({ code, set_cookie: true }),
      });
      expect(res.status).toBe(200);
      const cookies = res.headers.getSetCookie().join('\n');
      expect(cookies).toMatch(/auth_token=[^;]+;.*HttpOnly/);
      expect(cookies).toMatch(/refresh_token=[^;]+;.*Path=\/api\/auth\/refresh/);
      expect(cookies).toMatch(/csrf_token=/);
    });

    it('links the first sign-in to an existing account when the provider verified its email', async () => {
      const made = await admin('POST', '/api/auth/register', {
        email: 'grace@uni.example',
        password: 'Quartz-Meadow-2931',
        role: 'viewer',
      });
      expect(made.status).toBe(201);
      // API.md 12: only an account whose own address is verified is linked. Grace proves her mailbox by
      // resetting her password with the link mailed to her (the service writes mail to DATA_DIR/mail here).
      expect((await call('POST', '/api/auth/password/forgot', { email: 'grace@uni.example' })).status).toBe(202);
      const token = await mailedToken('grace@uni.example', '/reset');
      expect((await call('POST', '/api/auth/password/reset', { token, password: 'Quartz-Meadow-2932' })).status).toBe(
        204,
      );
      await accounts({ 'grace-sub': { email: 'grace@uni.example', email_verified: true } });
      const before = await userCount();
      const { code } = await signIn('generic', 'grace-sub');
      const res = await exchange(code);
      expect(res.status).toBe(200);
      expect(res.body.user).toMatchObject({ id: made.body.id, role: 'viewer' });
      expect(await userCount()).toBe(before);
      expect((await auditEvents('sso_linked')).some((e) => e.user_id === made.body.id)).toBe(true);
    });

    it('refuses to link to an account whose own address was never verified (pre-account takeover), and tells its owner', async () => {
      // Anyone signs up with the professor's address before the professor ever signs in.
      const squat = await call('POST', '/users', {
        client: 'web',
        email: 'newprof@uni.example',
        password: 'Squatter-Passw0rd1',
      });
      expect(squat.status).toBe(201);
      await accounts({ 'newprof-sub': { email: 'newprof@uni.example', email_verified: true } });
      const before = await userCount();
      const { code, error } = await signIn('generic', 'newprof-sub');
      expect(code).toBeNull();
      expect(error).toBe('account_exists_unverified');
      expect(await userCount()).toBe(before);
      const links = (await admin('GET', '/api/audit?event=sso_link_refused&limit=10')).body.items as unknown[];
      expect(links.length).toBe(1);
      const told = await mailedText('newprof@uni.example', 'was refused');
      expect(told).toMatch(/never confirmed/);
    });

    it('does not link to an existing account when the provider did not verify the email', async () => {
      expect(
        (
          await admin('POST', '/api/auth/register', {
            email: 'alan@uni.example',
            password: 'Quartz-Meadow-2931',
            role: 'viewer',
          })
        ).status,
      ).toBe(201);
      await accounts({ 'alan-sub': { email: 'alan@uni.example', email_verified: false } });
      const { error, code } = await signIn('generic', 'alan-sub');
      expect(code).toBeNull();
      expect(error).toBe('email_not_verified');
    });

    it('refuses an email outside the provider domains', async () => {
      await accounts({ 'mallory-sub': { email: 'mallory@evil.example', email_verified: true } });
      const before = await userCount();
      const { error } = await signIn('generic', 'mallory-sub');
      expect(error).toBe('domain_not_allowed');
      expect(await userCount()).toBe(before);
    });

    it('refuses a disabled account', async () => {
      await accounts({ 'dis-sub': { email: 'dis@uni.example', email_verified: true } });
      const first = await exchange((await signIn('generic', 'dis-sub')).code);
      expect(first.status).toBe(200);
      expect((await admin('PATCH', `/api/users/${first.body.user.id}`, { is_active: false })).status).toBe(200);
      expect((await signIn('generic', 'dis-sub')).error).toBe('account_disabled');
    });

    it('ends in MFA_REQUIRED for a user with MFA on, and the second factor finishes the sign-in with fed in amr', async () => {
      await accounts({ 'mfa-sub': { email: 'mfa@uni.example', email_verified: true } });
      const first = await exchange((await signIn('generic', 'mfa-sub')).code);
      const token = first.body.access_token;
      const enrol = await call('POST', '/api/auth/mfa/totp', {}, token);
      expect(enrol.status).toBe(201);
      const totp = new TOTP({ secret: Secret.fromBase32(enrol.body.secret), algorithm: 'SHA1', digits: 6, period: 30 });
      const confirm = await call(
        'POST',
        `/api/auth/mfa/factors/${enrol.body.factor_id}/confirm`,
        { code: totp.generate() },
        token,
      );
      expect(confirm.status).toBe(200);
      const res = await exchange((await signIn('generic', 'mfa-sub')).code);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('MFA_REQUIRED');
      expect(res.body.error.details).toMatchObject({ mfa_token: expect.any(String), expires_in: 300 });
      expect(res.body.error.details.factors).toEqual([expect.objectContaining({ type: 'totp' })]);
      const verified = await call('POST', '/api/auth/mfa/verify', {
        mfa_token: res.body.error.details.mfa_token,
        code: totp.generate({ timestamp: Date.now() + 30_000 }),
      });
      expect(verified.status).toBe(200);
      const claims = decodeJwt(verified.body.access_token);
      expect(claims.aal).toBe('aal2');
      expect(claims.amr).toEqual(expect.arrayContaining(['fed', 'otp', 'mfa']));
    });
  });

  describe('the state, bound to the browser and single use', () => {
    /** Follows the dance up to the callback, without following it: the callback URL the provider made. */
    const callbackUrl = async (browser: Browser, login: string) => {
      const start = `${s.svc.url}/api/sso/generic/login?redirect_uri=${encodeURIComponent(`${s.portal}/sso`)}`;
      const at = await browser.signIn(start, [`${s.svc.url}/api/sso/generic/callback`, s.portal], login);
      expect(at.pathname).toBe('/api/sso/generic/callback');
      return at.href;
    };

    it('refuses a wrong state (400 INVALID_STATE, no redirect)', async () => {
      const browser = new Browser();
      const url = new URL(await callbackUrl(browser, 'ada@uni.example'));
      url.searchParams.set('state', 'A'.repeat(43));
      const res = await browser.request(url.href);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INVALID_STATE');
    });

    it('refuses a reused state: the callback works once', async () => {
      const browser = new Browser();
      const url = await callbackUrl(browser, 'ada@uni.example');
      const first = await browser.request(url);
      expect(first.status).toBe(302);
      expect(new URL(first.headers.get('location')!).searchParams.get('code')).toBeTruthy();
      const second = await browser.request(url);
      expect(second.status).toBe(400);
    });

    it('refuses a callback in another browser than the one that started (login CSRF)', async () => {
      const url = await callbackUrl(new Browser(), 'ada@uni.example');
      const res = await new Browser().request(url);
      expect(res.status).toBe(400);
    });

    it('sends a provider error back to the portal as ?error=access_denied', async () => {
      const browser = new Browser();
      const url = new URL(await callbackUrl(browser, 'ada@uni.example'));
      url.searchParams.delete('code');
      url.searchParams.set('error', 'access_denied');
      const res = await browser.request(url.href);
      expect(res.status).toBe(302);
      expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('access_denied');
    });
  });

  describe('ID tokens that must be refused (a hostile provider)', () => {
    beforeAll(async () => {
      const reg = await register({
        id: 'hostile',
        name: 'H',
        issuer: `${s.idp.url}/hostile`,
        domains: ['hostile.example'],
      });
      expect(reg.status).toBe(201);
      await accounts({ 'eve-sub': { email: 'eve@hostile.example', email_verified: true } });
      await control(s.idp, { hostileLogin: 'eve-sub' });
    });

    it('accepts its well-formed token (the control case)', async () => {
      await control(s.idp, { hostile: 'ok' });
      const { code, error } = await signIn('hostile', 'eve-sub');
      expect(error).toBeNull();
      expect((await exchange(code)).status).toBe(200);
    });

    it.each([
      ['signed by another key under the provider kid', 'other-key'],
      ['for another audience', 'other-aud'],
      ['expired', 'expired'],
      ['carrying the nonce of an earlier sign-in (replayed nonce)', 'replay-nonce'],
    ])('refuses an ID token %s', async (_what, mode) => {
      await control(s.idp, { hostile: mode });
      const before = (await auditEvents('sso_login')).length;
      const { code, error } = await signIn('hostile', 'eve-sub');
      expect(code).toBeNull();
      expect(error).toBe('invalid_id_token');
      expect((await auditEvents('sso_login')).length).toBe(before);
    });

    it('refetches the JWKS for an unknown kid at most once a minute', async () => {
      await control(s.idp, { hostile: 'unknown-kid' });
      const before = (await jwksFetches(s.idp)).hostile ?? 0;
      for (let i = 0; i < 3; i++) expect((await signIn('hostile', 'eve-sub')).error).toBe('invalid_id_token');
      expect(((await jwksFetches(s.idp)).hostile ?? 0) - before).toBeLessThanOrEqual(1);
    });
  });

  describe('Entra ID (multi-tenant issuer, tid and allowed_tenants)', () => {
    beforeAll(async () => {
      const reg = await register({
        id: 'entra',
        name: 'Contoso',
        kind: 'entra',
        issuer: `${s.idp.url}/organizations/v2.0`,
        allowed_tenants: [TENANT_A],
        domains: ['contoso.example'],
      });
      expect(reg.status).toBe(201);
      expect(reg.body.allowed_tenants).toEqual([TENANT_A]);
      await accounts({
        'entra-a': { email: 'kim@contoso.example', tid: TENANT_A, xms_edov: true },
        'entra-b': { email: 'lee@contoso.example', tid: TENANT_B },
        'entra-liar': { email: 'liar@contoso.example', tid: TENANT_A },
      });
    });

    it('signs in a user of an allowed tenant: the token iss holds its own tid', async () => {
      await control(s.idp, { tenant: TENANT_A });
      const { code, error } = await signIn('entra', 'entra-a');
      expect(error).toBeNull();
      const res = await exchange(code);
      expect(res.status).toBe(200);
      expect(res.body.user).toMatchObject({ email: 'kim@contoso.example', email_verified: true });
    });

    it('refuses a tenant that is not allowed', async () => {
      await control(s.idp, { tenant: TENANT_B });
      expect((await signIn('entra', 'entra-b')).error).toBe('tenant_not_allowed');
    });

    it('refuses a token whose tid is not the tenant of its issuer', async () => {
      // Tenant B's provider signs it (iss .../B/v2.0) but the account claims tid A, an allowed one.
      await control(s.idp, { tenant: TENANT_B });
      expect((await signIn('entra', 'entra-liar')).error).toBe('invalid_id_token');
    });

    it('works with a single-tenant issuer too', async () => {
      const reg = await register({
        id: 'entra-single',
        name: 'Contoso A',
        kind: 'entra',
        issuer: `${s.idp.url}/${TENANT_A}/v2.0`,
        allowed_tenants: [TENANT_A],
        domains: ['contoso.example'],
      });
      expect(reg.status).toBe(201);
      const { code, error } = await signIn('entra-single', 'entra-a');
      expect(error).toBeNull();
      expect((await exchange(code)).status).toBe(200);
    });
  });

  describe('Google Workspace (hd)', () => {
    beforeAll(async () => {
      const reg = await register({
        id: 'google',
        name: 'Example School',
        kind: 'google',
        issuer: `${s.idp.url}/google`,
        domains: ['school.example'],
      });
      expect(reg.status).toBe(201);
      await accounts({
        'g-ok': { email: 'pat@school.example', email_verified: true, hd: 'school.example' },
        'g-nohd': { email: 'sam@school.example', email_verified: true },
        'g-other': { email: 'jo@school.example', email_verified: true, hd: 'other.example' },
      });
    });

    it('sends hd as a hint and signs in a user of the hosted domain', async () => {
      const res = await call('GET', `/api/sso/google/login?redirect_uri=${encodeURIComponent(s.portal)}`);
      expect(new URL(res.headers.get('location')!).searchParams.get('hd')).toBe('school.example');
      const { code, error } = await signIn('google', 'g-ok');
      expect(error).toBeNull();
      expect((await exchange(code)).status).toBe(200);
    });

    it('refuses an ID token without hd (a consumer account), whatever its email', async () => {
      expect((await signIn('google', 'g-nohd')).error).toBe('domain_not_allowed');
    });

    it('refuses an hd that is not one of the domains', async () => {
      expect((await signIn('google', 'g-other')).error).toBe('domain_not_allowed');
    });
  });

  describe('a key rotation at the provider', () => {
    it('is followed: a token under a new kid is refused until the JWKS copy is a minute old, then accepted after one refetch', async () => {
      await control(s.idp, { genericKeys: 'a' });
      expect((await exchange((await signIn('generic', 'ada@uni.example')).code)).status).toBe(200);
      const fetchedAt = Date.now();
      await control(s.idp, { genericKeys: 'b' });
      const before = (await jwksFetches(s.idp)).generic ?? 0;
      // Within the minute the service keeps its copy (no refetch storm on tokens of unknown kids)...
      const early = await signIn('generic', 'ada@uni.example');
      if (Date.now() - fetchedAt < 55_000) {
        expect(early.error).toBe('invalid_id_token');
        expect((await jwksFetches(s.idp)).generic ?? 0).toBe(before);
      }
      // ...and after it, the unknown kid makes it fetch the JWKS again, once, and the new key verifies.
      await new Promise((r) => setTimeout(r, Math.max(0, 61_000 - (Date.now() - fetchedAt))));
      const late = await signIn('generic', 'ada@uni.example');
      expect(late.error).toBeNull();
      expect((await exchange(late.code)).status).toBe(200);
      expect(((await jwksFetches(s.idp)).generic ?? 0) - before).toBe(1);
    }, 120_000);
  });
  describe('an admin with MFA on', () => {
    it('needs aal2 to register, change or remove a provider (403 MFA_STEP_UP_REQUIRED at aal1)', async () => {
      const enrol = await admin('POST', '/api/auth/mfa/totp', {});
      expect(enrol.status).toBe(201);
      const totp = new TOTP({ secret: Secret.fromBase32(enrol.body.secret), algorithm: 'SHA1', digits: 6, period: 30 });
      expect(
        (await admin('POST', `/api/auth/mfa/factors/${enrol.body.factor_id}/confirm`, { code: totp.generate() }))
          .status,
      ).toBe(200);
      const create = await register({
        id: 'late',
        name: 'L',
        issuer: `${s.idp.url}/generic`,
        domains: ['late.example'],
      });
      expect(create.status).toBe(403);
      expect(create.body.error.code).toBe('MFA_STEP_UP_REQUIRED');
      expect((await admin('PATCH', '/api/sso/providers/generic', { name: 'x' })).status).toBe(403);
      expect((await admin('DELETE', '/api/sso/providers/generic')).status).toBe(403);
      expect((await admin('GET', '/api/sso/providers/generic')).body.name).toBe('University of Example');
    });
  });
});
