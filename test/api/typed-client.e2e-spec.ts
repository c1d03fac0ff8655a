import { Secret, TOTP } from 'otpauth';
import {
  createIdentityClient,
  IdentityError,
  mfaChallengeOf,
  roleValues,
  unwrap,
  type Schema,
} from '../../clients/typescript/src/index';
import { ROLES } from '../../src/common/roles';
import { api, PASSWORD } from '../support/api';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestApp, type TestApp } from '../support/harness';

/**
 * The typed client (clients/typescript) against the real service, step by step as its README's
 * five-minute guide goes: sign in, call, refresh, `MFA_REQUIRED`, the cookie session with its CSRF
 * header, and the four surfaces' failures read into one error.
 */
describe('the typed client against the service (clients/typescript/README.md)', () => {
  let t: TestApp;
  let n = 0;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const bearerClient = () => {
    let session: Schema<'LoginResponse'> | undefined;
    const client = createIdentityClient({ baseUrl: t.url, accessToken: () => session?.access_token });
    return {
      client,
      set: (s: Schema<'LoginResponse'>) => (session = s),
      get: () => session as Schema<'LoginResponse'>,
    };
  };

  it('signs in, calls, refreshes and signs out with a Bearer token', async () => {
    const c = bearerClient();
    c.set(
      await unwrap(c.client.POST('/api/auth/login', { body: { username: ADMIN_EMAIL, password: ADMIN_PASSWORD } })),
    );
    expect(c.get().user.email).toBe(ADMIN_EMAIL);
    expect(c.get().token_type).toBe('bearer');
    const me = await unwrap(c.client.GET('/api/auth/me'));
    expect(me.role).toBe('admin');
    const admins = await unwrap(c.client.GET('/api/users', { params: { query: { role: 'admin', limit: 50 } } }));
    expect(admins.items.length).toBeGreaterThan(0);
    expect(admins.items.every((u) => u.role === 'admin')).toBe(true);
    const old = c.get().refresh_token;
    c.set(await unwrap(c.client.POST('/api/auth/refresh', { body: { refresh_token: old } })));
    expect(c.get().refresh_token).not.toBe(old);
    const sessions = await unwrap(c.client.GET('/api/auth/sessions'));
    expect(sessions.some((s) => s.current)).toBe(true);
    await unwrap(c.client.POST('/api/auth/logout'));
    await expect(unwrap(c.client.GET('/api/auth/me'))).rejects.toMatchObject({ status: 401, code: 'INVALID_TOKEN' });
    // The used refresh token is refused: presenting it ends the session (it has ended already).
    await expect(unwrap(c.client.POST('/api/auth/refresh', { body: { refresh_token: old } }))).rejects.toBeInstanceOf(
      IdentityError,
    );
  });

  it('handles MFA_REQUIRED: the second step with an authenticator code gives the login body', async () => {
    const email = `client${++n}@example.org`;
    await api(t).createUser(email, 'researcher');
    const c = bearerClient();
    c.set(await unwrap(c.client.POST('/api/auth/login', { body: { username: email, password: PASSWORD } })));
    const enrolment = await unwrap(c.client.POST('/api/auth/mfa/totp', { body: { name: 'Phone' } }));
    const totp = new TOTP({ secret: Secret.fromBase32(enrolment.secret), digits: 6, period: 30 });
    const confirmed = await unwrap(
      c.client.POST('/api/auth/mfa/factors/{id}/confirm', {
        params: { path: { id: enrolment.factor_id } },
        body: { code: totp.generate() },
      }),
    );
    expect(confirmed.recovery_codes).toHaveLength(10);

    const fresh = bearerClient();
    let challenge: Schema<'MfaChallenge'> | undefined;
    try {
      await unwrap(fresh.client.POST('/api/auth/login', { body: { username: email, password: PASSWORD } }));
    } catch (e) {
      expect(e).toMatchObject({ status: 401, code: 'MFA_REQUIRED' });
      challenge = mfaChallengeOf(e);
    }
    expect(challenge?.factors).toEqual([{ id: enrolment.factor_id, type: 'totp', name: 'Phone' }]);
    expect(mfaChallengeOf(new IdentityError(401, 'INVALID_CREDENTIALS', 'no'))).toBeUndefined();
    // The next step's code: the current one was used up by the confirmation.
    const body = await unwrap(
      fresh.client.POST('/api/auth/mfa/verify', {
        body: { mfa_token: challenge!.mfa_token, code: totp.generate({ timestamp: Date.now() + 30_000 }) },
      }),
    );
    fresh.set(body as Schema<'LoginResponse'>);
    expect(fresh.get().user.email).toBe(email);
    expect((await unwrap(fresh.client.GET('/api/auth/me'))).email).toBe(email);
  });

  it('keeps a cookie session, echoing the csrf_token cookie in X-CSRF-Token on unsafe requests', async () => {
    // A browser's cookie jar, in a few lines (paths and expiry left out: one origin, one test).
    const jar = new Map<string, string>();
    const withJar = async (input: Request): Promise<Response> => {
      input.headers.set('Cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
      const res = await fetch(input);
      for (const line of res.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const [k, ...v] = pair.split('=');
        if (v.join('=')) jar.set(k.trim(), v.join('='));
        else jar.delete(k.trim());
      }
      return res;
    };
    const client = createIdentityClient({
      baseUrl: t.url,
      fetch: withJar as typeof fetch,
      csrfToken: () => (jar.has('csrf_token') ? decodeURIComponent(jar.get('csrf_token')!) : undefined),
    });
    await unwrap(
      client.POST('/api/auth/login', { body: { username: ADMIN_EMAIL, password: ADMIN_PASSWORD, set_cookie: true } }),
    );
    expect([...jar.keys()].sort()).toEqual(['auth_token', 'csrf_token', 'refresh_token']);
    expect((await unwrap(client.GET('/api/auth/me'))).email).toBe(ADMIN_EMAIL);
    const before = jar.get('auth_token');
    // No body: the refresh cookie, with the CSRF header the client adds.
    await unwrap(client.POST('/api/auth/refresh'));
    expect(jar.get('auth_token')).not.toBe(before);
    // Without the header the same request is refused: the header is what the client adds.
    const bare = createIdentityClient({ baseUrl: t.url, fetch: withJar as typeof fetch, csrfToken: () => undefined });
    await expect(unwrap(bare.POST('/api/auth/logout'))).rejects.toMatchObject({ code: 'CSRF_TOKEN_INVALID' });
    await unwrap(client.POST('/api/auth/logout'));
  });

  it("reads each surface's failure into one IdentityError, and offers the document's enums as values", async () => {
    const client = createIdentityClient({ baseUrl: t.url });
    const wrong = { password: 'Not-The-Password-1' };
    await expect(
      unwrap(client.POST('/api/auth/login', { body: { username: ADMIN_EMAIL, ...wrong } })),
    ).rejects.toMatchObject({ status: 401, code: 'INVALID_CREDENTIALS' });
    await expect(unwrap(client.POST('/api/login', { body: { email: ADMIN_EMAIL, ...wrong } }))).rejects.toMatchObject({
      status: 401,
      code: 'INVALID_CREDENTIALS',
    });
    await expect(
      unwrap(client.POST('/users/token', { body: { client: 'web', email: ADMIN_EMAIL, ...wrong } })),
    ).rejects.toMatchObject({ message: 'Email or password incorrect' });
    await expect(
      unwrap(client.POST('/v1/auth/token', { body: { username: ADMIN_EMAIL, ...wrong } })),
    ).rejects.toMatchObject({ status: 401, message: 'Username and password do not match.' });
    const invalid = (await unwrap(client.POST('/api/auth/login', { body: { username: ADMIN_EMAIL } as never })).catch(
      (e: unknown) => e,
    )) as IdentityError;
    expect(invalid).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
    expect(invalid.fields.map((f) => f.name)).toContain('password');
    expect([...roleValues]).toEqual([...ROLES]);
  });
});
