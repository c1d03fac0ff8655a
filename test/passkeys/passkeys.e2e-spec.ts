import request from 'supertest';
import { api, decodeJwt, PASSWORD } from '../support/api';
import { startTestApp, TestApp } from '../support/harness';
import { CreationOptionsJSON, RequestOptionsJSON, SoftAuthenticator } from '../support/webauthn-authenticator';

const RP_ID = 'id.test';
const ORIGIN = 'https://portal.id.test';

interface LoginBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  user: { id: string; email: string; role: string };
}

describe('passkeys (API.md 8)', () => {
  let t: TestApp;
  let a: ReturnType<typeof api>;
  let n = 0;

  beforeAll(async () => {
    t = await startTestApp({
      WEBAUTHN_RP_ID: RP_ID,
      WEBAUTHN_ORIGINS: `${ORIGIN}, https://app.id.test`,
      MFA_REQUIRED_ROLES: 'coordinator',
    });
    a = api(t);
  });
  afterAll(() => t.close());

  const post = (path: string, token?: string) => {
    const r = request(t.url).post(path);
    return token ? r.set('Authorization', `Bearer ${token}`) : r;
  };
  const get = (path: string, token: string) => request(t.url).get(path).set('Authorization', `Bearer ${token}`);
  const del = (path: string, token: string) => request(t.url).delete(path).set('Authorization', `Bearer ${token}`);

  async function newUser(role = 'researcher') {
    const email = `pk${++n}@test.example.org`;
    const user = await a.createUser(email, role);
    const token = (await a.login(email, PASSWORD)).access_token;
    return { ...user, email, token, authenticator: new SoftAuthenticator(ORIGIN) };
  }

  /**
   * An admin signed in at aal2 (a passkey that verified the user): acting on an account with MFA on needs
   * it, whatever the admin's own MFA state (API.md 12).
   */
  async function aal2Admin(): Promise<string> {
    const boss = await newUser('admin');
    await addPasskey(boss.token, boss.authenticator);
    return (await passkeyLogin(200, boss.authenticator, boss.email)).body.access_token as string;
  }

  async function registrationOptions(token: string): Promise<CreationOptionsJSON> {
    return (await post('/api/auth/passkeys/register/options', token).send({}).expect(200)).body as CreationOptionsJSON;
  }

  /** Adds a passkey through the documented ceremony; returns the 201 body. */
  async function addPasskey(token: string, authenticator: SoftAuthenticator, name?: string) {
    const { response } = authenticator.create(await registrationOptions(token));
    const res = await post('/api/auth/passkeys/register/verify', token)
      .send({ response, ...(name ? { name } : {}) })
      .expect(201);
    return res.body as { id: string; name: string; created_at: string; recovery_codes?: string[] };
  }

  async function loginOptions(email?: string) {
    const res = await post('/api/auth/passkeys/login/options')
      .send(email === undefined ? {} : { email })
      .expect(200);
    return res.body as RequestOptionsJSON & { challenge_id: string; timeout: number };
  }

  /** A passwordless sign-in; the raw answer, so that tests can look at failures too. */
  async function passkeyLogin(
    status: number,
    authenticator: SoftAuthenticator,
    email?: string,
    lie: Parameters<SoftAuthenticator['get']>[1] = {},
    extra: Record<string, unknown> = {},
  ) {
    const options = await loginOptions(email);
    const response = authenticator.get(options, lie);
    return post('/api/auth/passkeys/login/verify')
      .send({ challenge_id: options.challenge_id, response, ...extra })
      .expect(status);
  }

  async function auditEvents(event: string, userId: string) {
    const admin = await a.adminToken();
    const res = await get(`/api/audit?event=${event}&user_id=${userId}`, admin).expect(200);
    return (res.body as { items: { event: string; details: Record<string, unknown> }[] }).items;
  }

  describe('registration', () => {
    it('offers creation options for the caller: RP, user, resident key and UV preferred, nothing excluded yet', async () => {
      const u = await newUser();
      const options = await registrationOptions(u.token);
      expect(options.rp).toEqual({ id: RP_ID, name: 'Identity' });
      expect(options.user.name).toBe(u.email);
      expect(Buffer.from(options.user.id, 'base64url').toString()).toBe(u.id);
      expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      expect(options.authenticatorSelection).toMatchObject({ residentKey: 'preferred', userVerification: 'preferred' });
      expect(options).toMatchObject({ attestation: 'none', timeout: 300000, excludeCredentials: [] });
      expect(options.pubKeyCredParams.map((p) => p.alg)).toEqual([-8, -7, -257]);
    });

    it('adds a passkey as a confirmed MFA factor: 201 with the ten recovery codes, since it turned MFA on', async () => {
      const u = await newUser();
      const added = await addPasskey(u.token, u.authenticator, 'Laptop');
      expect(added).toEqual({
        id: expect.any(String),
        name: 'Laptop',
        created_at: expect.any(String),
        recovery_codes: expect.any(Array),
      });
      expect(added.recovery_codes).toHaveLength(10);
      const mfa = (await get('/api/auth/mfa', u.token).expect(200)).body;
      expect(mfa).toEqual({
        enabled: true,
        factors: [{ id: added.id, type: 'passkey', name: 'Laptop', created_at: added.created_at, last_used_at: null }],
        recovery_codes_left: 10,
      });
      const list = (await get('/api/auth/passkeys', u.token).expect(200)).body;
      expect(list).toEqual([
        {
          id: added.id,
          name: 'Laptop',
          created_at: added.created_at,
          last_used_at: null,
          transports: ['internal', 'hybrid'],
          aaguid: '00000000-0000-0000-0000-000000000000',
          backed_up: true,
          device_type: 'multiDevice',
        },
      ]);
      expect(await auditEvents('passkey_added', u.id)).toHaveLength(1);
      expect((await auditEvents('mfa_enrolled', u.id))[0].details).toMatchObject({ type: 'passkey' });
    });

    it('names a passkey "Passkey" by default, and a second one brings no new recovery codes', async () => {
      const u = await newUser();
      const first = await addPasskey(u.token, u.authenticator);
      expect(first.name).toBe('Passkey');
      // MFA is on now: adding another factor needs a sign-in at aal2, which the first passkey gives.
      const aal2 = ((await passkeyLogin(200, u.authenticator, u.email)).body as LoginBody).access_token;
      const options = await registrationOptions(aal2);
      expect(options.excludeCredentials).toEqual([
        { id: u.authenticator.credentials[0].id, type: 'public-key', transports: ['internal', 'hybrid'] },
      ]);
      const other = new SoftAuthenticator(ORIGIN);
      const { response } = other.create(options);
      const second = (
        await post('/api/auth/passkeys/register/verify', aal2).send({ response, name: 'Key' }).expect(201)
      ).body;
      expect(second.recovery_codes).toBeUndefined();
      expect((await get('/api/auth/passkeys', aal2).expect(200)).body).toHaveLength(2);
    });

    it('needs a step-up to add a passkey once MFA is on: the aal1 token of before gets 403 MFA_STEP_UP_REQUIRED', async () => {
      const u = await newUser();
      await addPasskey(u.token, u.authenticator);
      const res = await post('/api/auth/passkeys/register/options', u.token).send({}).expect(403);
      expect(res.body.error.code).toBe('MFA_STEP_UP_REQUIRED');
    });

    it('needs a sign-in: 401 without a credential on every caller route', async () => {
      await post('/api/auth/passkeys/register/options').send({}).expect(401);
      await post('/api/auth/passkeys/register/verify').send({ response: {} }).expect(401);
      await request(t.url).get('/api/auth/passkeys').expect(401);
      await request(t.url).delete('/api/auth/passkeys/00000000-0000-4000-8000-000000000000').expect(401);
    });
  });

  describe('passwordless sign-in', () => {
    it('signs in with an email: the account’s passkeys allowed, the login body of 1.1, amr hwk+mfa at aal2', async () => {
      const u = await newUser();
      const added = await addPasskey(u.token, u.authenticator);
      const options = await loginOptions(u.email);
      expect(options).toMatchObject({
        rpId: RP_ID,
        userVerification: 'preferred',
        timeout: 300000,
        allowCredentials: [{ id: u.authenticator.credentials[0].id, type: 'public-key' }],
        challenge_id: expect.any(String),
      });
      const response = u.authenticator.get(options);
      const res = await post('/api/auth/passkeys/login/verify')
        .send({ challenge_id: options.challenge_id, response })
        .expect(200);
      const body = res.body as LoginBody;
      expect(body).toMatchObject({ token_type: 'bearer', expires_in: 86400, user: { id: u.id, email: u.email } });
      expect(body.refresh_token).toEqual(expect.any(String));
      const claims = decodeJwt(body.access_token);
      expect(claims).toMatchObject({ sub: u.id, amr: ['hwk', 'mfa'], aal: 'aal2' });
      expect((await get('/api/auth/me', body.access_token).expect(200)).body.id).toBe(u.id);
      const [factor] = (await get('/api/auth/mfa', body.access_token).expect(200)).body.factors;
      expect(factor).toMatchObject({ id: added.id, type: 'passkey', last_used_at: expect.any(String) });
      expect(await auditEvents('passkey_sign_in', u.id)).toHaveLength(1);
      // A refresh keeps the assurance of the sign-in.
      const refreshed = await post('/api/auth/refresh').send({ refresh_token: body.refresh_token }).expect(200);
      expect(decodeJwt(refreshed.body.access_token)).toMatchObject({ amr: ['hwk', 'mfa'], aal: 'aal2' });
    });

    it('signs in with a discoverable passkey and no email: an empty allow list, the user found by the credential', async () => {
      const u = await newUser();
      await addPasskey(u.token, u.authenticator);
      const options = await loginOptions();
      expect(options.allowCredentials).toEqual([]);
      const response = u.authenticator.get(options);
      const res = await post('/api/auth/passkeys/login/verify')
        .send({ challenge_id: options.challenge_id, response })
        .expect(200);
      expect((res.body as LoginBody).user.id).toBe(u.id);
    });

    it('answers an unknown email in the same shape, with a stable decoy, and no passkey can finish it', async () => {
      const u = await newUser();
      await addPasskey(u.token, u.authenticator);
      const unknown = await loginOptions('nobody-here@test.example.org');
      const again = await loginOptions('Nobody-Here@test.example.org');
      const known = await loginOptions(u.email);
      expect(Object.keys(unknown).sort()).toEqual(Object.keys(known).sort());
      expect(unknown.allowCredentials).toHaveLength(1);
      expect(unknown.allowCredentials![0]).toEqual({
        id: expect.stringMatching(/^[A-Za-z0-9_-]+$/),
        type: 'public-key',
      });
      expect(again.allowCredentials).toEqual(unknown.allowCredentials);
      // A user without passkeys looks the same as nobody.
      const bare = await newUser();
      expect((await loginOptions(bare.email)).allowCredentials).toHaveLength(1);
      // A real passkey of another account cannot answer a challenge issued for an email.
      const response = u.authenticator.get(unknown, { credentialId: u.authenticator.credentials[0].id });
      const res = await post('/api/auth/passkeys/login/verify')
        .send({ challenge_id: unknown.challenge_id, response })
        .expect(401);
      expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
    });

    it('honours remember and set_cookie as POST /api/auth/login does', async () => {
      const u = await newUser();
      await addPasskey(u.token, u.authenticator);
      const res = await passkeyLogin(200, u.authenticator, u.email, {}, { remember: true, set_cookie: true });
      expect(res.body.expires_in).toBe(30 * 86400);
      const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
      expect(cookies.find((c) => c.startsWith('auth_token='))).toMatch(/HttpOnly/);
      expect(cookies.find((c) => c.startsWith('refresh_token='))).toMatch(/Path=\/api\/auth\/refresh/);
      expect(cookies.find((c) => c.startsWith('csrf_token='))).toBeDefined();
    });

    it('treats a passkey without user verification as one factor: MFA_REQUIRED, finished with another factor', async () => {
      const u = await newUser();
      const added = await addPasskey(u.token, u.authenticator);
      const res = await passkeyLogin(401, u.authenticator, u.email, { userVerified: false });
      expect(res.body.error.code).toBe('MFA_REQUIRED');
      // The passkey that was the first step is not offered again as the second.
      expect(res.body.error.details.factors).toEqual([]);
      const mfaToken = res.body.error.details.mfa_token as string;
      const again = await post('/api/auth/mfa/challenge')
        .send({ mfa_token: mfaToken, factor_id: added.id })
        .expect(400);
      expect(again.body.error.code).toBe('BAD_REQUEST');
      const done = await post('/api/auth/mfa/verify')
        .send({ mfa_token: mfaToken, recovery_code: added.recovery_codes![0] })
        .expect(200);
      expect(decodeJwt(done.body.access_token)).toMatchObject({ amr: ['hwk', 'otp', 'mfa'], aal: 'aal2' });
    });

    it('refuses a disabled account after a right assertion: 403', async () => {
      const u = await newUser();
      await addPasskey(u.token, u.authenticator);
      await request(t.url)
        .patch(`/api/users/${u.id}`)
        .set('Authorization', `Bearer ${await aal2Admin()}`)
        .send({ is_active: false })
        .expect(200);
      const res = await passkeyLogin(403, u.authenticator, u.email);
      expect(res.body.error.code).toBe('ACCOUNT_DISABLED');
    });
  });

  describe('a passkey as the second factor', () => {
    it('answers a password with MFA_REQUIRED listing the passkey; its challenge gives options, its assertion signs in', async () => {
      const u = await newUser();
      const added = await addPasskey(u.token, u.authenticator, 'Phone');
      const first = await post('/api/auth/login')
        .send({ username: u.email, password: PASSWORD, set_cookie: true })
        .expect(401);
      expect(first.body.error.code).toBe('MFA_REQUIRED');
      const { mfa_token: mfaToken, factors } = first.body.error.details;
      expect(factors).toEqual([{ id: added.id, type: 'passkey', name: 'Phone' }]);
      const challenge = await post('/api/auth/mfa/challenge')
        .send({ mfa_token: mfaToken, factor_id: added.id })
        .expect(200);
      expect(challenge.body).toMatchObject({
        rpId: RP_ID,
        challenge: expect.any(String),
        allowCredentials: [
          { id: u.authenticator.credentials[0].id, type: 'public-key', transports: ['internal', 'hybrid'] },
        ],
      });
      const webauthn = u.authenticator.get(challenge.body, { userVerified: false });
      const done = await post('/api/auth/mfa/verify')
        .send({ mfa_token: mfaToken, factor_id: added.id, webauthn })
        .expect(200);
      expect(decodeJwt(done.body.access_token)).toMatchObject({ sub: u.id, amr: ['pwd', 'hwk', 'mfa'], aal: 'aal2' });
      const cookies = ([] as string[]).concat(done.headers['set-cookie'] ?? []);
      expect(cookies.some((c) => c.startsWith('auth_token='))).toBe(true);
      expect((await auditEvents('mfa_verified', u.id))[0].details).toMatchObject({
        factor: 'passkey',
        factor_id: added.id,
      });
    });
  });

  describe('a passkey as the second factor, further', () => {
    it('finishes a clinical sign-in with the clinical login body', async () => {
      const u = await newUser('doctor');
      // Email verification is the clinical surface's own step, tested in its suite; here it is taken as done.
      await t.db.query(`UPDATE users SET email_verified = true WHERE id = $1`, [u.id]);
      const added = await addPasskey(u.token, u.authenticator);
      const first = await post('/api/login').send({ email: u.email, password: PASSWORD }).expect(401);
      expect(first.body).toMatchObject({
        success: false,
        code: 'MFA_REQUIRED',
        factors: [{ id: added.id, type: 'passkey' }],
      });
      const options = await post('/api/auth/mfa/challenge')
        .send({ mfa_token: first.body.mfa_token, factor_id: added.id })
        .expect(200);
      const done = await post('/api/auth/mfa/verify')
        .send({ mfa_token: first.body.mfa_token, factor_id: added.id, webauthn: u.authenticator.get(options.body) })
        .expect(200);
      expect(done.body).toMatchObject({ success: true, token: expect.any(String), uid: u.id, expiresIn: 86400 });
      expect(decodeJwt(done.body.token)).toMatchObject({ amr: ['pwd', 'hwk', 'mfa'], aal: 'aal2', userId: u.id });
    });

    it('counts bad assertions as wrong codes: the fifth ends the mfa_token, even for a right one after', async () => {
      const u = await newUser();
      const added = await addPasskey(u.token, u.authenticator);
      const first = await post('/api/auth/login').send({ username: u.email, password: PASSWORD }).expect(401);
      const mfaToken = first.body.error.details.mfa_token as string;
      const challenge = () =>
        post('/api/auth/mfa/challenge').send({ mfa_token: mfaToken, factor_id: added.id }).expect(200);
      for (let i = 0; i < 5; i++) {
        const options = (await challenge()).body;
        const res = await post('/api/auth/mfa/verify')
          .send({
            mfa_token: mfaToken,
            factor_id: added.id,
            webauthn: u.authenticator.get(options, { tamperSignature: true }),
          })
          .expect(401);
        expect(res.body.error.code).toBe('INVALID_MFA_CODE');
      }
      const dead = await post('/api/auth/mfa/challenge').send({ mfa_token: mfaToken, factor_id: added.id }).expect(401);
      expect(dead.body.error.code).toBe('INVALID_TOKEN');
      expect((await auditEvents('mfa_failed', u.id)).map((e) => e.details.kind)).toEqual(Array(5).fill('passkey'));
    });
  });

  describe('removal', () => {
    it('removes a passkey at aal2 (204), refuses it afterwards, and the last factor turns MFA off', async () => {
      const u = await newUser();
      const added = await addPasskey(u.token, u.authenticator);
      const stepUp = await del(`/api/auth/passkeys/${added.id}`, u.token).expect(403);
      expect(stepUp.body.error.code).toBe('MFA_STEP_UP_REQUIRED');
      const options = await loginOptions(u.email);
      const aal2 = (
        await post('/api/auth/passkeys/login/verify')
          .send({ challenge_id: options.challenge_id, response: u.authenticator.get(options) })
          .expect(200)
      ).body.access_token as string;
      await del(`/api/auth/passkeys/${added.id}`, aal2).expect(204);
      expect((await get('/api/auth/passkeys', aal2).expect(200)).body).toEqual([]);
      expect((await get('/api/auth/mfa', aal2).expect(200)).body).toMatchObject({
        enabled: false,
        recovery_codes_left: 0,
      });
      expect(await auditEvents('passkey_removed', u.id)).toHaveLength(1);
      const refused = await passkeyLogin(401, u.authenticator, undefined);
      expect(refused.body.error.code).toBe('INVALID_CREDENTIALS');
      // A password alone signs in again.
      await a.login(u.email, PASSWORD);
    });

    it('goes with its factor: DELETE /api/auth/mfa/factors/{id} and an admin’s MFA reset remove passkeys too', async () => {
      const u = await newUser();
      const added = await addPasskey(u.token, u.authenticator);
      const aal2 = ((await passkeyLogin(200, u.authenticator, u.email)).body as LoginBody).access_token;
      await del(`/api/auth/mfa/factors/${added.id}`, aal2).expect(204);
      expect((await get('/api/auth/passkeys', aal2).expect(200)).body).toEqual([]);
      await passkeyLogin(401, u.authenticator, undefined);
      const other = await newUser();
      await addPasskey(other.token, other.authenticator);
      await del(`/api/users/${other.id}/mfa`, await aal2Admin()).expect(204);
      await passkeyLogin(401, other.authenticator, undefined);
      const fresh = (await a.login(other.email, PASSWORD)).access_token;
      expect((await get('/api/auth/passkeys', fresh).expect(200)).body).toEqual([]);
    });

    it('answers 404 for another user’s passkey and for ids that are no passkey', async () => {
      const owner = await newUser();
      const added = await addPasskey(owner.token, owner.authenticator);
      const other = await newUser();
      const res = await del(`/api/auth/passkeys/${added.id}`, other.token).expect(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
      await del('/api/auth/passkeys/not-a-uuid', other.token).expect(404);
      expect((await get('/api/auth/mfa', owner.token).expect(200)).body.factors).toHaveLength(1);
    });

    it('lets a role of MFA_REQUIRED_ROLES register a passkey before enrolment, and keeps its last factor: 409', async () => {
      const u = await newUser('coordinator');
      // Before any factor, such a user reaches little but enrolment, passkey registration included.
      const gated = await get('/api/auth/sessions', u.token).expect(403);
      expect(gated.body.error.code).toBe('MFA_ENROLMENT_REQUIRED');
      const added = await addPasskey(u.token, u.authenticator);
      const aal2 = ((await passkeyLogin(200, u.authenticator, u.email)).body as LoginBody).access_token;
      const res = await del(`/api/auth/passkeys/${added.id}`, aal2).expect(409);
      expect(res.body.error.code).toBe('MFA_REQUIRED_BY_POLICY');
      expect((await get('/api/auth/passkeys', aal2).expect(200)).body).toHaveLength(1);
    });
  });

  describe('refusals: every one 401 INVALID_CREDENTIALS (400 for a body of the wrong shape), nothing changed', () => {
    /** A user with one passkey, and what an observer of the account can see of it. */
    async function withPasskey() {
      const u = await newUser();
      const added = await addPasskey(u.token, u.authenticator);
      const state = async () => {
        const [row] = (await t.db.query(
          `SELECT p.counter, f.last_used_at FROM passkeys p JOIN mfa_factors f ON f.id = p.id WHERE p.id = $1`,
          [added.id],
        )) as { counter: string; last_used_at: Date | null }[];
        const [{ sessions }] = (await t.db.query(
          `SELECT count(*)::int AS sessions FROM login_sessions WHERE user_id = $1 AND method = 'passkey'`,
          [u.id],
        )) as { sessions: number }[];
        return { counter: row.counter, lastUsed: row.last_used_at, sessions };
      };
      return { ...u, added, state };
    }

    const refusedLogin = async (body: Record<string, unknown>) => {
      const res = await post('/api/auth/passkeys/login/verify').send(body).expect(401);
      expect(res.body).toEqual({ error: { code: 'INVALID_CREDENTIALS', message: expect.any(String) } });
    };

    it('refuses an assertion made for another origin, or over another RP id', async () => {
      const u = await withPasskey();
      const before = await u.state();
      for (const lie of [
        { origin: 'https://evil.example' },
        { origin: 'http://portal.id.test' },
        { rpId: 'evil.test' },
      ]) {
        const options = await loginOptions(u.email);
        await refusedLogin({ challenge_id: options.challenge_id, response: u.authenticator.get(options, lie) });
      }
      expect(await u.state()).toEqual(before);
      // The other configured origin is one of ours.
      await passkeyLogin(200, u.authenticator, u.email, { origin: 'https://app.id.test' });
    });

    it('refuses a registration made for another origin or RP id, and stores nothing', async () => {
      const u = await newUser();
      for (const lie of [{ origin: 'https://evil.example' }, { rpId: 'evil.test' }, { type: 'webauthn.get' }]) {
        const { response } = new SoftAuthenticator(ORIGIN).create(await registrationOptions(u.token), lie);
        const res = await post('/api/auth/passkeys/register/verify', u.token).send({ response }).expect(401);
        expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
      }
      expect((await get('/api/auth/passkeys', u.token).expect(200)).body).toEqual([]);
      expect((await get('/api/auth/mfa', u.token).expect(200)).body.enabled).toBe(false);
      expect((await auditEvents('passkey_failed', u.id)).length).toBe(3);
    });

    it('uses a challenge once: the same assertion twice, and 10 at once, sign in once', async () => {
      const u = await withPasskey();
      const options = await loginOptions(u.email);
      const response = u.authenticator.get(options);
      await post('/api/auth/passkeys/login/verify').send({ challenge_id: options.challenge_id, response }).expect(200);
      await refusedLogin({ challenge_id: options.challenge_id, response });
      const racing = await loginOptions(u.email);
      const raced = u.authenticator.get(racing);
      const statuses = await Promise.all(
        Array.from({ length: 10 }, () =>
          post('/api/auth/passkeys/login/verify').send({ challenge_id: racing.challenge_id, response: raced }),
        ),
      );
      expect(statuses.map((r) => r.status).sort()).toEqual([200, ...Array(9).fill(401)]);
    });

    it('uses a registration challenge once: the same registration twice stores one passkey', async () => {
      const u = await newUser();
      const { response } = u.authenticator.create(await registrationOptions(u.token));
      await post('/api/auth/passkeys/register/verify', u.token).send({ response }).expect(201);
      // MFA is on now, so the replay comes with a sign-in at aal2 (the aal1 token would stop at the step-up).
      const aal2 = ((await passkeyLogin(200, u.authenticator, u.email)).body as LoginBody).access_token;
      const again = await post('/api/auth/passkeys/register/verify', aal2).send({ response }).expect(401);
      expect(again.body.error.code).toBe('INVALID_CREDENTIALS');
      expect((await get('/api/auth/passkeys', aal2).expect(200)).body).toHaveLength(1);
    });

    it('refuses a challenge older than 5 minutes', async () => {
      const u = await withPasskey();
      const options = await loginOptions(u.email);
      // Only time is simulated: the challenge's expiry moves into the past, nothing is read back.
      await t.db.query(`UPDATE webauthn_challenges SET expires_at = now() - interval '1 second' WHERE id = $1`, [
        options.challenge_id,
      ]);
      await refusedLogin({ challenge_id: options.challenge_id, response: u.authenticator.get(options) });
      const other = await newUser();
      const creation = await registrationOptions(other.token);
      await t.db.query(
        `UPDATE webauthn_challenges SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND purpose = 'register'`,
        [other.id],
      );
      const { response } = other.authenticator.create(creation);
      await post('/api/auth/passkeys/register/verify', other.token).send({ response }).expect(401);
      expect((await get('/api/auth/passkeys', other.token).expect(200)).body).toEqual([]);
    });

    it('refuses a credential that was never registered, and a known one whose signature was tampered with', async () => {
      const u = await withPasskey();
      const before = await u.state();
      const stranger = new SoftAuthenticator(ORIGIN);
      stranger.create(await registrationOptions((await newUser()).token)); // made, never sent to the service
      const options = await loginOptions();
      await refusedLogin({ challenge_id: options.challenge_id, response: stranger.get(options) });
      const next = await loginOptions(u.email);
      await refusedLogin({
        challenge_id: next.challenge_id,
        response: u.authenticator.get(next, { tamperSignature: true }),
      });
      expect(await u.state()).toEqual(before);
    });

    it('refuses a counter that does not go forward (a cloned authenticator) and records passkey_clone_suspected', async () => {
      const u = await withPasskey();
      await passkeyLogin(200, u.authenticator, u.email); // counter 1
      const before = await u.state();
      expect(before.counter).toBe('1');
      for (const counter of [1, 0]) {
        const options = await loginOptions(u.email);
        await refusedLogin({ challenge_id: options.challenge_id, response: u.authenticator.get(options, { counter }) });
      }
      expect(await u.state()).toEqual(before);
      const events = await auditEvents('passkey_clone_suspected', u.id);
      expect(events).toHaveLength(2);
      expect(events[1].details).toMatchObject({ factor_id: u.added.id, stored_counter: 1, presented_counter: 1 });
      // The genuine authenticator, one step ahead, still signs in.
      await passkeyLogin(200, u.authenticator, u.email);
    });

    it('accepts an authenticator that never counts (counter always 0)', async () => {
      const u = await withPasskey();
      await passkeyLogin(200, u.authenticator, u.email, { counter: 0 });
      await passkeyLogin(200, u.authenticator, u.email, { counter: 0 });
    });

    it('refuses a challenge of one purpose used for another', async () => {
      const u = await withPasskey();
      // A sign-in challenge echoed in a registration.
      const login = await loginOptions(u.email);
      const other = await newUser();
      const creation = await registrationOptions(other.token);
      const { response: reg } = new SoftAuthenticator(ORIGIN).create(creation, { challenge: login.challenge });
      await post('/api/auth/passkeys/register/verify', other.token).send({ response: reg }).expect(401);
      // One user's registration challenge answered by another user.
      const aal2 = ((await passkeyLogin(200, u.authenticator, u.email)).body as LoginBody).access_token;
      const { response: stolen } = new SoftAuthenticator(ORIGIN).create(creation);
      await post('/api/auth/passkeys/register/verify', aal2).send({ response: stolen }).expect(401);
      // A registration challenge echoed in a sign-in, under a live sign-in challenge_id.
      const fresh = await loginOptions(u.email);
      const ownCreation = await registrationOptions(aal2);
      await refusedLogin({
        challenge_id: fresh.challenge_id,
        response: u.authenticator.get(fresh, { challenge: ownCreation.challenge }),
      });
      // A second-step challenge of a pending sign-in used to sign in, and a sign-in challenge as a second step.
      const first = await post('/api/auth/login').send({ username: u.email, password: PASSWORD }).expect(401);
      const mfaToken = first.body.error.details.mfa_token as string;
      const step = await post('/api/auth/mfa/challenge')
        .send({ mfa_token: mfaToken, factor_id: u.added.id })
        .expect(200);
      const signIn = await loginOptions(u.email);
      await refusedLogin({ challenge_id: signIn.challenge_id, response: u.authenticator.get(step.body) });
      const wrong = await post('/api/auth/mfa/verify')
        .send({
          mfa_token: mfaToken,
          factor_id: u.added.id,
          webauthn: u.authenticator.get(await loginOptions(u.email)),
        })
        .expect(401);
      expect(wrong.body.error.code).toBe('INVALID_MFA_CODE');
      expect((await get('/api/auth/passkeys', other.token).expect(200)).body).toEqual([]);
    });

    it('refuses a second step over another mfa_token’s challenge, for another factor, or with a bad assertion', async () => {
      const u = await withPasskey();
      const start = async () =>
        (await post('/api/auth/login').send({ username: u.email, password: PASSWORD }).expect(401)).body.error.details
          .mfa_token as string;
      const tokenA = await start();
      const tokenB = await start();
      const optionsA = (
        await post('/api/auth/mfa/challenge').send({ mfa_token: tokenA, factor_id: u.added.id }).expect(200)
      ).body;
      const answer = u.authenticator.get(optionsA);
      const crossed = await post('/api/auth/mfa/verify')
        .send({ mfa_token: tokenB, factor_id: u.added.id, webauthn: answer })
        .expect(401);
      expect(crossed.body.error.code).toBe('INVALID_MFA_CODE');
      const bad = await post('/api/auth/mfa/verify')
        .send({ mfa_token: tokenA, factor_id: u.added.id, webauthn: { id: 'x', response: {} } })
        .expect(401);
      expect(bad.body.error.code).toBe('INVALID_MFA_CODE');
      const noFactor = await post('/api/auth/mfa/verify').send({ mfa_token: tokenA, webauthn: answer }).expect(400);
      expect(noFactor.body.error.code).toBe('VALIDATION_ERROR');
      const both = await post('/api/auth/mfa/verify')
        .send({ mfa_token: tokenA, factor_id: u.added.id, webauthn: answer, code: '123456' })
        .expect(400);
      expect(both.body.error.code).toBe('VALIDATION_ERROR');
      // The challenge of token A is still live (only refused uses took nothing): it finishes token A.
      await post('/api/auth/mfa/verify')
        .send({ mfa_token: tokenA, factor_id: u.added.id, webauthn: answer })
        .expect(200);
    });

    it('refuses malformed bodies in the portal shape: 400 for the wrong types, 401 for a credential that is not one', async () => {
      const u = await withPasskey();
      const aal2 = ((await passkeyLogin(200, u.authenticator, u.email)).body as LoginBody).access_token;
      const before = await u.state();
      const options = await loginOptions(u.email);
      const good = u.authenticator.get(options);
      for (const body of [
        {},
        { challenge_id: options.challenge_id },
        { challenge_id: 'not-a-uuid', response: good },
        { challenge_id: options.challenge_id, response: 'a string' },
        { challenge_id: options.challenge_id, response: [good] },
        { challenge_id: options.challenge_id, response: good, remember: 'maybe' },
      ]) {
        const res = await post('/api/auth/passkeys/login/verify').send(body).expect(400);
        expect(res.body.error.code).toBe('VALIDATION_ERROR');
      }
      const inner = (r: Record<string, unknown>) => ({ ...good, response: { ...good.response, ...r } });
      for (const response of [
        {},
        { ...good, id: 5 },
        { ...good, type: 'password' },
        { ...good, rawId: 'AAAA' },
        inner({ signature: '***not base64url***' }),
        inner({ authenticatorData: undefined }),
        inner({ clientDataJSON: Buffer.from('not json').toString('base64url') }),
        inner({ userHandle: Buffer.from('someone else').toString('base64url') }),
      ]) {
        const fresh = await loginOptions(u.email);
        await refusedLogin({ challenge_id: fresh.challenge_id, response });
      }
      for (const body of [
        {},
        { response: 'x' },
        { response: [] },
        { response: {}, name: 5 },
        { response: {}, name: 'n'.repeat(101) },
      ]) {
        const res = await post('/api/auth/passkeys/register/verify', aal2).send(body).expect(400);
        expect(res.body.error.code).toBe('VALIDATION_ERROR');
      }
      const garbage = await post('/api/auth/passkeys/register/verify', aal2)
        .send({ response: { id: '%%%', response: { clientDataJSON: 5 } } })
        .expect(401);
      expect(garbage.body.error.code).toBe('INVALID_CREDENTIALS');
      for (const body of [{ email: 5 }, { email: '' }, { email: 'a\u200b@test.example.org' }]) {
        await post('/api/auth/passkeys/login/options').send(body).expect(400);
      }
      await post('/api/auth/passkeys/login/options')
        .set('Content-Type', 'application/json')
        .send('{"email":')
        .expect(400);
      expect(await u.state()).toEqual(before);
    });

    it('refuses to register a credential that is already registered: 409', async () => {
      const first = await withPasskey();
      const other = await newUser();
      const { response } = other.authenticator.create(await registrationOptions(other.token), {
        reuse: first.authenticator.credentials[0],
      });
      const res = await post('/api/auth/passkeys/register/verify', other.token).send({ response }).expect(409);
      expect(res.body.error.code).toBe('CONFLICT');
      expect((await get('/api/auth/mfa', other.token).expect(200)).body).toMatchObject({ enabled: false, factors: [] });
    });
  });
});
