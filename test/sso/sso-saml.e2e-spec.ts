import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { Browser, callApi, control, parseForm, SsoStack, startSsoStack } from '../support/sso-harness';

/**
 * API.md 7 with SAML 2.0: the service provider (node-saml) against a real identity provider made with
 * samlify (test/support/idp/saml-idp.mjs) that signs with its own key pair, and the built service.
 */
describe('single sign-on with SAML 2.0', () => {
  let s: SsoStack;
  let cert: string;
  const call = (method: string, path: string, body?: unknown, token?: string) =>
    callApi(s.svc.url, method, path, body, token);
  const admin = (method: string, path: string, body?: unknown) => call(method, path, body, s.adminToken);
  const saml = (body: Record<string, unknown>) => control(s.samlIdp, body);
  const start = (redirect = `${s.portal}/sso`) =>
    `${s.svc.url}/api/sso/saml/login?redirect_uri=${encodeURIComponent(redirect)}`;
  const browserOf = new Map<string, Browser>();
  const signIn = async (browser = new Browser()) => {
    const back = await browser.signIn(start(), [s.portal]);
    const code = back.searchParams.get('code');
    if (code) browserOf.set(code, browser);
    return { code, error: back.searchParams.get('error'), browser };
  };
  /** Only the browser that started the sign-in can exchange its code (API.md 12): its binding cookie goes along. */
  const exchange = (code: string | null) =>
    callApi(
      s.svc.url,
      'POST',
      '/api/sso/token',
      { code },
      undefined,
      browserOf.get(code ?? '')?.cookieHeader(new URL(`${s.svc.url}/api/sso/token`)),
    );

  beforeAll(async () => {
    s = await startSsoStack();
    cert = await (await fetch(`${s.samlIdp.url}/cert`)).text();
  }, 90_000);
  afterAll(() => s?.close());

  describe('registration and metadata', () => {
    it('registers a SAML provider and names what to give the IdP', async () => {
      const res = await admin('POST', '/api/sso/providers', {
        id: 'saml',
        type: 'saml',
        name: 'Example College',
        domains: ['college.example'],
        default_role: 'viewer',
        entry_point: `${s.samlIdp.url}/sso`,
        idp_issuer: `${s.samlIdp.url}/metadata`,
        idp_certificate: cert,
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        id: 'saml',
        type: 'saml',
        sp_entity_id: `${s.svc.url}/api/sso/saml/metadata`,
        acs_url: `${s.svc.url}/api/sso/saml/acs`,
        metadata_url: `${s.svc.url}/api/sso/saml/metadata`,
      });
    });

    it('refuses a certificate that is not PEM, missing fields and OIDC fields (400)', async () => {
      const res = await admin('POST', '/api/sso/providers', {
        id: 'saml-bad',
        type: 'saml',
        name: 'Bad',
        domains: ['bad.example'],
        default_role: 'viewer',
        entry_point: `${s.samlIdp.url}/sso`,
        idp_issuer: 'x',
        idp_certificate: '-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----',
        client_secret: 'x',
      });
      expect(res.status).toBe(400);
      expect(Object.keys(res.body.error.details)).toEqual(expect.arrayContaining(['idp_certificate', 'client_secret']));
      const missing = await admin('POST', '/api/sso/providers', {
        id: 'saml-bad',
        type: 'saml',
        name: 'Bad',
        domains: ['bad.example'],
        default_role: 'viewer',
      });
      expect(missing.status).toBe(400);
      expect(Object.keys(missing.body.error.details)).toEqual(['entry_point', 'idp_issuer', 'idp_certificate']);
    });

    it('serves the SP metadata (entity id, ACS URL), and 404 for an unknown provider', async () => {
      const res = await call('GET', '/api/sso/saml/metadata');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('application/samlmetadata+xml');
      expect(res.text).toContain(`entityID="${s.svc.url}/api/sso/saml/metadata"`);
      expect(res.text).toContain(`Location="${s.svc.url}/api/sso/saml/acs"`);
      expect((await call('GET', '/api/sso/nope/metadata')).status).toBe(404);
    });

    it('sends the browser to the IdP with an AuthnRequest (HTTP-Redirect) and a RelayState', async () => {
      const browser = new Browser();
      const res = await browser.request(start());
      expect(res.status).toBe(302);
      const to = new URL(res.headers.get('location')!);
      expect(to.href.startsWith(`${s.samlIdp.url}/sso?`)).toBe(true);
      expect(to.searchParams.get('RelayState')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const request = inflateRawSync(Buffer.from(to.searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
      expect(request).toContain('<samlp:AuthnRequest');
      expect(request).toContain(`AssertionConsumerServiceURL="${s.svc.url}/api/sso/saml/acs"`);
      expect(request).toMatch(/\bID="_[0-9a-f]+"/);
      expect(browser.cookie('sso_browser')?.httpOnly).toBe(true);
    });
  });

  describe('sign-in', () => {
    it('provisions a user from a signed assertion, and signs them in with fed', async () => {
      await saml({ mode: 'assertion', user: { email: 'ines@college.example' } });
      const { code, error } = await signIn();
      expect(error).toBeNull();
      const res = await exchange(code);
      expect(res.status).toBe(200);
      expect(res.body.user).toMatchObject({ email: 'ines@college.example', role: 'viewer' });
      const claims = JSON.parse(Buffer.from(res.body.access_token.split('.')[1], 'base64url').toString());
      expect(claims.amr).toEqual(['fed']);
    });

    it('accepts a response signed as a whole (assertion unsigned), and finds the same user again', async () => {
      await saml({ mode: 'response', user: { email: 'ines@college.example' } });
      const first = await exchange((await signIn()).code);
      expect(first.status).toBe(200);
      expect(first.body.user.email).toBe('ines@college.example');
    });

    it("links to an existing account of the provider's domains", async () => {
      const made = await admin('POST', '/api/auth/register', {
        email: 'olga@college.example',
        password: 'Quartz-Meadow-2931',
        role: 'researcher',
      });
      // API.md 12: only an account whose own address is verified is linked; Olga proves her mailbox by a
      // password reset (without SMTP_URL the service writes its mail to DATA_DIR/mail/*.txt).
      expect((await call('POST', '/api/auth/password/forgot', { email: 'olga@college.example' })).status).toBe(202);
      let token: string | undefined;
      for (let i = 0; i < 50 && !token; i++) {
        const dir = join(s.dataDir, 'mail');
        token = (existsSync(dir) ? readdirSync(dir) : [])
          .filter((f) => f.endsWith('.txt'))
          .map((f) => readFileSync(join(dir, f), 'utf8'))
          .filter((m) => m.startsWith('To: olga@college.example\n'))
          .map((m) => /\/reset\?token=([A-Za-z0-9_-]{43})/.exec(m)?.[1])
          .find(Boolean);
        if (!token) await new Promise((r) => setTimeout(r, 100));
      }
      expect((await call('POST', '/api/auth/password/reset', { token, password: 'Quartz-Meadow-2932' })).status).toBe(
        204,
      );
      await saml({ mode: 'assertion', user: { email: 'olga@college.example' } });
      const res = await exchange((await signIn()).code);
      expect(res.status).toBe(200);
      expect(res.body.user).toMatchObject({ id: made.body.id, role: 'researcher' });

      // What the admin console shows of the user: the link, by provider and subject.
      const links = await admin('GET', `/api/users/${made.body.id}/sso-links`);
      expect(links.status).toBe(200);
      expect(links.body).toEqual([
        expect.objectContaining({ provider_id: 'saml', provider_type: 'saml', last_login_at: expect.any(String) }),
      ]);
      expect(links.body[0].subject).toEqual(expect.any(String));
      expect((await call('GET', `/api/users/${made.body.id}/sso-links`, undefined, res.body.access_token)).status).toBe(
        403,
      );
      expect((await call('GET', `/api/users/${made.body.id}/sso-links`)).status).toBe(401);
      const missing = await admin('GET', '/api/users/00000000-0000-4000-8000-000000000000/sso-links');
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('NOT_FOUND');
      expect((await admin('GET', '/api/users/not-a-uuid/sso-links')).status).toBe(404);
    });

    it('refuses an address outside the provider domains', async () => {
      await saml({ mode: 'assertion', user: { email: 'someone@elsewhere.example' } });
      expect((await signIn()).error).toBe('domain_not_allowed');
    });
  });

  describe('responses that must be refused', () => {
    beforeAll(async () => {
      await admin('POST', '/api/auth/register', {
        email: 'dean@college.example',
        password: 'Quartz-Meadow-2931',
        role: 'admin',
      });
    });

    it.each([
      ['unsigned', 'unsigned', /signature/i],
      ['tampered after signing (another user put in the signed assertion)', 'tampered', /signature/i],
      ['signature-wrapped (the signed assertion hidden, a forged one in its place)', 'wrapped', /signature/i],
      ['signed by a key other than idp_certificate', 'other-key', /signature/i],
      ['for another audience', 'other-audience', /audience/i],
      ['past its NotOnOrAfter', 'expired', /no valid subject confirmation|expired/i],
      ['answering a request this service never made (InResponseTo)', 'other-request', /InResponseTo/],
    ])('refuses a response %s', async (_what, mode, reason) => {
      await saml({ mode, user: { email: 'ines@college.example' }, tamperTo: 'dean@college.example' });
      const { code, error } = await signIn();
      expect(code).toBeNull();
      expect(error).toBe('invalid_saml_response');
      const failures = (await admin('GET', '/api/audit?event=sso_failed&limit=1')).body.items;
      expect(failures[0].details).toMatchObject({ provider: 'saml', error: 'invalid_saml_response' });
      expect(failures[0].details.reason).toMatch(reason);
    });

    it('refuses a replayed response: the same post again, or in a new sign-in attempt', async () => {
      await saml({ mode: 'assertion', user: { email: 'ines@college.example' } });
      const browser = new Browser();
      const { code } = await signIn(browser);
      expect((await exchange(code)).status).toBe(200);
      const last = (await (await fetch(`${s.samlIdp.url}/last`)).json()) as {
        SAMLResponse: string;
        RelayState: string;
      };
      // The very same post: its attempt is used up.
      const same = await browser.request(`${s.svc.url}/api/sso/saml/acs`, { form: last });
      expect(same.status).toBe(400);
      // In a fresh attempt of the same browser: InResponseTo names the old request, and the assertion is spent.
      const fresh = await browser.request(start());
      const relay = new URL(fresh.headers.get('location')!).searchParams.get('RelayState')!;
      const replay = await browser.request(`${s.svc.url}/api/sso/saml/acs`, {
        form: { SAMLResponse: last.SAMLResponse, RelayState: relay },
      });
      expect(replay.status).toBe(302);
      expect(new URL(replay.headers.get('location')!).searchParams.get('error')).toMatch(
        /^(invalid_saml_response|replayed_response)$/,
      );
    });

    it('refuses a post without an attempt of this browser (400), and one without SAMLResponse', async () => {
      await saml({ mode: 'assertion', user: { email: 'ines@college.example' } });
      const browser = new Browser();
      const page = await browser.request(start());
      const idpPage = await browser.request(page.headers.get('location')!);
      const form = parseForm(await idpPage.text())!;
      // Another browser (no binding cookie) posting this browser's response.
      const other = await new Browser().request(`${s.svc.url}/api/sso/saml/acs`, { form: form.fields });
      expect(other.status).toBe(400);
      const empty = await browser.request(`${s.svc.url}/api/sso/saml/acs`, {
        form: { RelayState: form.fields.RelayState },
      });
      expect(empty.status).toBe(302);
      expect(new URL(empty.headers.get('location')!).searchParams.get('error')).toBe('invalid_saml_response');
      expect((await browser.request(`${s.svc.url}/api/sso/nope/acs`, { form: form.fields })).status).toBe(404);
    });
  });
});
