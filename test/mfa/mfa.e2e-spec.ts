import { Secret, TOTP } from 'otpauth';
import request from 'supertest';
import { api, decodeJwt, PASSWORD } from '../support/api';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestApp, TestApp } from '../support/harness';
import { SmsCatcher } from '../support/sms-catcher';

/** What an authenticator app does with the enrolment secret: codes for now, or for the next step. */
function authenticator(secret: string) {
  const totp = new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });
  return { code: (steps = 0) => totp.generate({ timestamp: Date.now() + steps * 30_000 }) };
}

const codeIn = (text: string): string => {
  const m = /\b(\d{6})\b/.exec(text);
  if (!m) throw new Error(`no code in: ${text}`);
  return m[1];
};

interface Enrolled {
  id: string;
  email: string;
  /** The aal1 token of the sign-in that enrolled the factor. */
  enrolToken: string;
  factorId: string;
  app: ReturnType<typeof authenticator>;
  recoveryCodes: string[];
}

describe('two-factor authentication (API.md 6)', () => {
  let t: TestApp;
  let a: ReturnType<typeof api>;
  let n = 0;

  beforeAll(async () => {
    t = await startTestApp();
    a = api(t);
  });
  afterAll(() => t.close());

  const post = (path: string, token?: string) => {
    const r = request(t.url).post(path);
    return token ? r.set('Authorization', `Bearer ${token}`) : r;
  };

  /** A new user with an authenticator app enrolled and confirmed (a code of the current step used). */
  async function enrolledUser(role = 'researcher'): Promise<Enrolled> {
    const email = `mfa${++n}@test.example.org`;
    const user = await a.createUser(email, role);
    const enrolToken = (await a.login(email, PASSWORD)).access_token;
    const enrolment = (await post('/api/auth/mfa/totp', enrolToken).send({ name: 'Phone' }).expect(201)).body as {
      factor_id: string;
      secret: string;
    };
    const app = authenticator(enrolment.secret);
    const confirmed = await post(`/api/auth/mfa/factors/${enrolment.factor_id}/confirm`, enrolToken)
      .send({ code: app.code() })
      .expect(200);
    return {
      id: user.id,
      email,
      enrolToken,
      factorId: enrolment.factor_id,
      app,
      recoveryCodes: (confirmed.body as { recovery_codes: string[] }).recovery_codes,
    };
  }

  /** The first step: a right password of an MFA user answers MFA_REQUIRED with an mfa_token. */
  async function firstStep(email: string, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await post('/api/auth/login')
      .send({ username: email, password: PASSWORD, ...extra })
      .expect(401);
    expect(res.body.error.code).toBe('MFA_REQUIRED');
    return res.body.error.details.mfa_token as string;
  }

  describe('enrolment of an authenticator app', () => {
    it('shows the secret, an otpauth:// URI and a QR code once, and turns MFA on only when confirmed', async () => {
      const email = `enrol${++n}@test.example.org`;
      await a.createUser(email, 'researcher');
      const token = (await a.login(email, PASSWORD)).access_token;
      const res = await post('/api/auth/mfa/totp', token).send({}).expect(201);
      expect(res.body).toEqual({
        factor_id: expect.any(String),
        secret: expect.stringMatching(/^[A-Z2-7]{32}$/),
        otpauth_uri: expect.stringMatching(/^otpauth:\/\/totp\/Identity:/),
        qr_code: expect.stringMatching(/^data:image\/svg\+xml;base64,/),
      });
      expect(res.body.otpauth_uri).toContain(`secret=${res.body.secret}`);
      expect(Buffer.from(res.body.qr_code.split(',')[1], 'base64').toString()).toContain('<svg');
      // Pending: nothing is on yet, and a password alone still signs in.
      const pending = await request(t.url).get('/api/auth/mfa').set(a.bearer(token)).expect(200);
      expect(pending.body).toEqual({ enabled: false, factors: [], recovery_codes_left: 0 });
      await a.login(email, PASSWORD);
      // The seed is stored sealed, never as the base32 the user saw.
      const [row] = await t.db.query(`SELECT secret_enc FROM mfa_factors WHERE id = $1`, [res.body.factor_id]);
      expect(Buffer.from(row.secret_enc).toString('latin1')).not.toContain(res.body.secret);

      const app = authenticator(res.body.secret);
      const wrong = await post(`/api/auth/mfa/factors/${res.body.factor_id}/confirm`, token)
        .send({ code: app.code() === '000000' ? '111111' : '000000' })
        .expect(401);
      expect(wrong.body.error.code).toBe('INVALID_MFA_CODE');
      const ok = await post(`/api/auth/mfa/factors/${res.body.factor_id}/confirm`, token)
        .send({ code: app.code() })
        .expect(200);
      expect(ok.body.factor).toMatchObject({ id: res.body.factor_id, type: 'totp', name: 'Authenticator app' });
      expect(ok.body.recovery_codes).toHaveLength(10);
      expect(new Set(ok.body.recovery_codes).size).toBe(10);
      const on = await request(t.url).get('/api/auth/mfa').set(a.bearer(token)).expect(200);
      expect(on.body).toMatchObject({ enabled: true, recovery_codes_left: 10 });
      expect(on.body.factors).toEqual([
        {
          id: res.body.factor_id,
          type: 'totp',
          name: 'Authenticator app',
          created_at: expect.any(String),
          last_used_at: expect.any(String),
        },
      ]);
    });

    it('refuses to confirm another user’s factor (404) and a malformed code (401)', async () => {
      const u = await enrolledUser();
      const other = `other${++n}@test.example.org`;
      await a.createUser(other, 'viewer');
      const otherToken = (await a.login(other, PASSWORD)).access_token;
      await post(`/api/auth/mfa/factors/${u.factorId}/confirm`, otherToken).send({ code: '123456' }).expect(404);
      await post('/api/auth/mfa/factors/not-a-uuid/confirm', otherToken).send({ code: '123456' }).expect(404);
      // MFA is on now: confirming (even again) is a sensitive action that needs aal2 (API.md 12).
      const stepUp = await post(`/api/auth/mfa/factors/${u.factorId}/confirm`, u.enrolToken)
        .send({ code: 'abc' })
        .expect(403);
      expect(stepUp.body.error.code).toBe('MFA_STEP_UP_REQUIRED');
      const aal2 = (
        await post('/api/auth/mfa/verify')
          .send({ mfa_token: await firstStep(u.email), recovery_code: u.recoveryCodes[0] })
          .expect(200)
      ).body.access_token as string;
      const malformed = await post(`/api/auth/mfa/factors/${u.factorId}/confirm`, aal2)
        .send({ code: 'abc' })
        .expect(401);
      expect(malformed.body.error.code).toBe('INVALID_MFA_CODE');
      await post(`/api/auth/mfa/factors/${u.factorId}/confirm`, aal2).send({ code: 123456 }).expect(400);
    });

    it('needs a credential: 401 without one, and only a JWT of a sign-in manages factors', async () => {
      await request(t.url).get('/api/auth/mfa').expect(401);
      await post('/api/auth/mfa/totp').send({}).expect(401);
    });
  });

  describe('signing in with MFA on', () => {
    it('ends a right password in MFA_REQUIRED, and the second step returns the login body at aal2', async () => {
      const u = await enrolledUser();
      const res = await post('/api/auth/login').send({ username: u.email, password: PASSWORD }).expect(401);
      expect(res.body).toEqual({
        error: {
          code: 'MFA_REQUIRED',
          message: expect.any(String),
          details: {
            mfa_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
            factors: [{ id: u.factorId, type: 'totp', name: 'Phone' }],
            expires_in: 300,
          },
        },
      });
      // A wrong password is still the plain 401, saying nothing of MFA.
      const wrongPassword = await post('/api/auth/login')
        .send({ username: u.email, password: 'Wrong-Pass-1' })
        .expect(401);
      expect(wrongPassword.body.error.code).toBe('INVALID_CREDENTIALS');

      const done = await post('/api/auth/mfa/verify')
        .send({ mfa_token: res.body.error.details.mfa_token, code: u.app.code(1) })
        .expect(200);
      expect(done.body).toMatchObject({ token_type: 'bearer', expires_in: 86400, user: { email: u.email } });
      const claims = decodeJwt(done.body.access_token);
      expect(claims.aal).toBe('aal2');
      expect(claims.amr).toEqual(['pwd', 'otp', 'mfa']);
      await request(t.url).get('/api/auth/me').set(a.bearer(done.body.access_token)).expect(200);

      // The mfa_token worked once.
      const again = await post('/api/auth/mfa/verify')
        .send({ mfa_token: res.body.error.details.mfa_token, code: u.app.code(1) })
        .expect(401);
      expect(again.body.error.code).toBe('INVALID_TOKEN');

      // A refresh keeps aal2.
      const refreshed = await post('/api/auth/refresh').send({ refresh_token: done.body.refresh_token }).expect(200);
      expect(decodeJwt(refreshed.body.access_token)).toMatchObject({ aal: 'aal2', amr: ['pwd', 'otp', 'mfa'] });

      // The audit trail has the steps, and no code.
      const events = await t.db.query(`SELECT event, details::text AS d FROM audit_events WHERE user_id = $1`, [u.id]);
      expect(events.map((e: { event: string }) => e.event)).toEqual(
        expect.arrayContaining(['mfa_enrolled', 'mfa_verified', 'login_success']),
      );
      for (const e of events as { d: string }[]) expect(e.d).not.toMatch(/\b\d{6}\b/);
    });

    it('honours remember and set_cookie of the first step', async () => {
      const u = await enrolledUser();
      const mfaToken = await firstStep(u.email, { remember: true, set_cookie: true });
      const done = await post('/api/auth/mfa/verify')
        .send({ mfa_token: mfaToken, code: u.app.code(1) })
        .expect(200);
      expect(done.body.expires_in).toBe(30 * 86400);
      const cookies = ([] as string[]).concat(done.headers['set-cookie'] ?? []);
      expect(cookies.some((c) => c.startsWith('auth_token=') && /HttpOnly/i.test(c))).toBe(true);
      expect(cookies.some((c) => c.startsWith('csrf_token='))).toBe(true);
    });

    it('accepts a TOTP code once: the same code for a second sign-in is refused', async () => {
      const u = await enrolledUser();
      const code = u.app.code(1);
      await post('/api/auth/mfa/verify')
        .send({ mfa_token: await firstStep(u.email), code })
        .expect(200);
      const replay = await post('/api/auth/mfa/verify')
        .send({ mfa_token: await firstStep(u.email), code })
        .expect(401);
      expect(replay.body.error.code).toBe('INVALID_MFA_CODE');
    });

    it('gives exactly one success to 20 parallel sign-ins with the same right code', async () => {
      const u = await enrolledUser();
      const tokens: string[] = [];
      for (let i = 0; i < 20; i++) tokens.push(await firstStep(u.email));
      const code = u.app.code(1);
      const results = await Promise.all(
        tokens.map((mfa_token) => post('/api/auth/mfa/verify').send({ mfa_token, code })),
      );
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 401)).toHaveLength(19);
      const [{ sessions }] = await t.db.query(
        `SELECT count(*)::int AS sessions FROM login_sessions WHERE user_id = $1 AND aal = 2`,
        [u.id],
      );
      expect(sessions).toBe(1);
    });

    it('kills an mfa_token after 5 wrong codes, even for a right one after', async () => {
      const u = await enrolledUser();
      const mfaToken = await firstStep(u.email);
      for (let i = 0; i < 5; i++) {
        const r = await post('/api/auth/mfa/verify').send({ mfa_token: mfaToken, code: '000000' }).expect(401);
        expect(r.body.error.code).toBe('INVALID_MFA_CODE');
      }
      const dead = await post('/api/auth/mfa/verify')
        .send({ mfa_token: mfaToken, code: u.app.code(1) })
        .expect(401);
      expect(dead.body.error.code).toBe('INVALID_TOKEN');
    });

    it('refuses the account’s verifications after 10 wrong codes in the window (429), whatever the token', async () => {
      const u = await enrolledUser();
      for (let round = 0; round < 2; round++) {
        const mfaToken = await firstStep(u.email);
        for (let i = 0; i < 5; i++) await post('/api/auth/mfa/verify').send({ mfa_token: mfaToken, code: '000000' });
      }
      const locked = await post('/api/auth/mfa/verify')
        .send({ mfa_token: await firstStep(u.email), code: u.app.code(1) })
        .expect(429);
      expect(locked.body.error.code).toBe('RATE_LIMIT_EXCEEDED');
    });

    it('refuses forged, malformed and missing second steps with a 4xx in the portal shape', async () => {
      const u = await enrolledUser();
      const mfaToken = await firstStep(u.email);
      const forged = await post('/api/auth/mfa/verify')
        .send({ mfa_token: 'A'.repeat(43), code: '123456' })
        .expect(401);
      expect(forged.body.error.code).toBe('INVALID_TOKEN');
      await post('/api/auth/mfa/verify').send({ mfa_token: mfaToken }).expect(400);
      await post('/api/auth/mfa/verify').send({ mfa_token: mfaToken, code: '1', recovery_code: 'x' }).expect(400);
      await post('/api/auth/mfa/verify').send({ mfa_token: 42, code: '123456' }).expect(400);
      await post('/api/auth/mfa/verify').send({ mfa_token: mfaToken, code: '123456', factor_id: 'x' }).expect(400);
      // None of it used the token up.
      await post('/api/auth/mfa/verify')
        .send({ mfa_token: mfaToken, code: u.app.code(1) })
        .expect(200);
    });
  });

  describe('recovery codes', () => {
    it('signs in once with each code, and regenerating (at aal2) ends the old ones', async () => {
      const u = await enrolledUser();
      const [first, second] = u.recoveryCodes;
      const done = await post('/api/auth/mfa/verify')
        .send({ mfa_token: await firstStep(u.email), recovery_code: first.toUpperCase() })
        .expect(200);
      expect(decodeJwt(done.body.access_token).aal).toBe('aal2');
      const twice = await post('/api/auth/mfa/verify')
        .send({ mfa_token: await firstStep(u.email), recovery_code: first })
        .expect(401);
      expect(twice.body.error.code).toBe('INVALID_MFA_CODE');
      const status = await request(t.url).get('/api/auth/mfa').set(a.bearer(done.body.access_token)).expect(200);
      expect(status.body.recovery_codes_left).toBe(9);

      // The enrolment sign-in was aal1: it may not regenerate.
      const stepUp = await post('/api/auth/mfa/recovery-codes', u.enrolToken).expect(403);
      expect(stepUp.body.error.code).toBe('MFA_STEP_UP_REQUIRED');
      const fresh = await post('/api/auth/mfa/recovery-codes', done.body.access_token).expect(200);
      expect(fresh.body.recovery_codes).toHaveLength(10);
      const old = await post('/api/auth/mfa/verify')
        .send({ mfa_token: await firstStep(u.email), recovery_code: second })
        .expect(401);
      expect(old.body.error.code).toBe('INVALID_MFA_CODE');
      await post('/api/auth/mfa/verify')
        .send({ mfa_token: await firstStep(u.email), recovery_code: fresh.body.recovery_codes[0] })
        .expect(200);
      const events = await t.db.query(`SELECT event FROM audit_events WHERE user_id = $1`, [u.id]);
      expect(events.map((e: { event: string }) => e.event)).toEqual(
        expect.arrayContaining(['recovery_code_used', 'recovery_codes_regenerated', 'mfa_failed']),
      );
    });
  });

  describe('email codes', () => {
    it('enrols the address with a mailed code, sends a code on challenge, and a newer code replaces the older', async () => {
      const u = await enrolledUser();
      const aal2 = (
        await post('/api/auth/mfa/verify')
          .send({ mfa_token: await firstStep(u.email), code: u.app.code(1) })
          .expect(200)
      ).body.access_token as string;
      // Adding a factor once MFA is on needs aal2.
      expect((await post('/api/auth/mfa/email', u.enrolToken).send({}).expect(403)).body.error.code).toBe(
        'MFA_STEP_UP_REQUIRED',
      );
      t.smtp.messages.length = 0;
      const enrol = await post('/api/auth/mfa/email', aal2).send({}).expect(201);
      const enrolMail = await t.smtp.waitFor(u.email, (m) => m.subject === 'Your sign-in code');
      const confirmed = await post(`/api/auth/mfa/factors/${enrol.body.factor_id}/confirm`, aal2)
        .send({ code: codeIn(enrolMail.text) })
        .expect(200);
      expect(confirmed.body.recovery_codes).toBeUndefined(); // MFA was already on

      const mfaToken = await firstStep(u.email);
      t.smtp.messages.length = 0;
      await post('/api/auth/mfa/challenge').send({ mfa_token: mfaToken, factor_id: enrol.body.factor_id }).expect(202);
      const older = codeIn((await t.smtp.waitFor(u.email, (m) => m.subject === 'Your sign-in code')).text);
      t.smtp.messages.length = 0;
      await post('/api/auth/mfa/challenge').send({ mfa_token: mfaToken, factor_id: enrol.body.factor_id }).expect(202);
      const newer = codeIn((await t.smtp.waitFor(u.email, (m) => m.subject === 'Your sign-in code')).text);
      if (older !== newer) {
        await post('/api/auth/mfa/verify')
          .send({ mfa_token: mfaToken, code: older, factor_id: enrol.body.factor_id })
          .expect(401);
      }
      const done = await post('/api/auth/mfa/verify').send({ mfa_token: mfaToken, code: newer }).expect(200);
      expect(decodeJwt(done.body.access_token)).toMatchObject({ aal: 'aal2', amr: ['pwd', 'otp', 'mfa'] });

      // A challenge for a TOTP factor has nothing to send; a dead token is refused.
      const totp = await post('/api/auth/mfa/challenge')
        .send({ mfa_token: await firstStep(u.email), factor_id: u.factorId })
        .expect(400);
      expect(totp.body.error.code).toBe('BAD_REQUEST');
      await post('/api/auth/mfa/challenge').send({ mfa_token: mfaToken, factor_id: enrol.body.factor_id }).expect(401);
    });
  });

  describe('removal and the admin reset', () => {
    it('removes a factor only at aal2; the last one turns MFA off and a password alone signs in again', async () => {
      const u = await enrolledUser();
      expect(
        (await request(t.url).delete(`/api/auth/mfa/factors/${u.factorId}`).set(a.bearer(u.enrolToken)).expect(403))
          .body.error.code,
      ).toBe('MFA_STEP_UP_REQUIRED');
      const aal2 = (
        await post('/api/auth/mfa/verify')
          .send({ mfa_token: await firstStep(u.email), code: u.app.code(1) })
          .expect(200)
      ).body.access_token as string;
      const other = await enrolledUser();
      await request(t.url).delete(`/api/auth/mfa/factors/${other.factorId}`).set(a.bearer(aal2)).expect(404);
      await request(t.url).delete(`/api/auth/mfa/factors/${u.factorId}`).set(a.bearer(aal2)).expect(204);
      const off = await request(t.url).get('/api/auth/mfa').set(a.bearer(aal2)).expect(200);
      expect(off.body).toEqual({ enabled: false, factors: [], recovery_codes_left: 0 });
      const plain = await a.login(u.email, PASSWORD);
      expect(decodeJwt(plain.access_token)).toMatchObject({ aal: 'aal1', amr: ['pwd'] });
    });

    it('lets an admin reset a user’s MFA: factors and codes gone, sessions ended, an audit event', async () => {
      const u = await enrolledUser();
      // An admin acting on an account with MFA on needs aal2 whatever its own MFA state (API.md 12).
      const aal1Admin = await a.adminToken();
      const refused = await request(t.url).delete(`/api/users/${u.id}/mfa`).set(a.bearer(aal1Admin)).expect(403);
      expect(refused.body.error.code).toBe('MFA_STEP_UP_REQUIRED');
      const boss = await enrolledUser('admin');
      const admin = (
        await post('/api/auth/mfa/verify')
          .send({ mfa_token: await firstStep(boss.email), code: boss.app.code(1) })
          .expect(200)
      ).body.access_token as string;
      await request(t.url)
        .delete(`/api/users/00000000-0000-4000-8000-000000000000/mfa`)
        .set(a.bearer(admin))
        .expect(404);
      await request(t.url).delete(`/api/users/${u.id}/mfa`).set(a.bearer(u.enrolToken)).expect(403);
      await request(t.url).delete(`/api/users/${u.id}/mfa`).set(a.bearer(admin)).expect(204);
      await request(t.url).get('/api/auth/me').set(a.bearer(u.enrolToken)).expect(401);
      const [{ factors }] = await t.db.query(`SELECT count(*)::int AS factors FROM mfa_factors WHERE user_id = $1`, [
        u.id,
      ]);
      expect(factors).toBe(0);
      await a.login(u.email, PASSWORD);
      const [event] = await t.db.query(`SELECT actor_id FROM audit_events WHERE event = 'mfa_reset' AND user_id = $1`, [
        u.id,
      ]);
      expect(event).toBeDefined();
    });
  });

  describe('no route signs in an MFA user on one factor', () => {
    it('walks every route that takes a password or another first factor', async () => {
      const u = await enrolledUser('patient');
      const noCredential = (body: unknown) => {
        const text = JSON.stringify(body);
        expect(text).not.toMatch(/access_token|"token":|refresh_token|"key":|eyJ/);
      };
      const portal = await post('/api/auth/login').send({ username: u.email, password: PASSWORD });
      expect(portal.status).toBe(401);
      noCredential({
        ...portal.body,
        error: { ...portal.body.error, details: { ...portal.body.error.details, mfa_token: null } },
      });

      await t.db.query(`UPDATE users SET email_verified = true WHERE id = $1`, [u.id]);
      const clinical = await post('/api/login').send({ email: u.email, password: PASSWORD });
      expect(clinical.status).toBe(401);
      expect(clinical.body).toMatchObject({ success: false, code: 'MFA_REQUIRED', mfa_token: expect.any(String) });
      expect(clinical.body.factors).toEqual([{ id: u.factorId, type: 'totp', name: 'Phone' }]);

      const keyToken = await post('/users/token').send({ client: 'web', email: u.email, password: PASSWORD });
      expect(keyToken.status).toBe(400);
      expect(keyToken.body).toEqual({ errors: ['Two-factor authentication is required for this account'] });

      const iam = await post('/v1/auth/token/').send({ username: u.email, password: PASSWORD });
      expect(iam.status).toBe(401);
      expect(iam.body).toMatchObject({
        error_codes: [603],
        message: 'Two-factor authentication is required for this account',
      });

      const signUpAgain = await post('/users').send({ client: 'web', email: u.email, password: PASSWORD });
      expect(signUpAgain.status).toBeGreaterThanOrEqual(400);
      noCredential(signUpAgain.body);

      t.smtp.messages.length = 0;
      await post('/api/auth/magic-link').send({ email: u.email }).expect(202);
      const mail = await t.smtp.waitFor(u.email, (m) => m.subject === 'Your sign-in link');
      const linkToken = /token=([A-Za-z0-9_-]{43})/.exec(mail.text.replace(/=\r?\n/g, ''))?.[1];
      const magic = await post('/api/auth/magic-link/verify').send({ token: linkToken }).expect(401);
      expect(magic.body.error.code).toBe('MFA_REQUIRED');
      // The link is spent by the first step; the second step finishes at aal2 with `email` as the first factor.
      await post('/api/auth/magic-link/verify').send({ token: linkToken }).expect(401);
      const done = await post('/api/auth/mfa/verify')
        .send({ mfa_token: magic.body.error.details.mfa_token, code: u.app.code(1) })
        .expect(200);
      expect(decodeJwt(done.body.access_token)).toMatchObject({ aal: 'aal2', amr: ['email', 'otp', 'mfa'] });

      // No login session was opened by any first step alone: every session since the factor is aal2.
      const [{ single }] = await t.db.query(
        `SELECT count(*)::int AS single FROM login_sessions
          WHERE user_id = $1 AND aal = 1 AND created_at > (SELECT confirmed_at FROM mfa_factors WHERE id = $2)`,
        [u.id, u.factorId],
      );
      expect(single).toBe(0);
    });

    it('answers the clinical second step with the clinical login body', async () => {
      const u = await enrolledUser('doctor');
      await t.db.query(`UPDATE users SET email_verified = true WHERE id = $1`, [u.id]);
      const first = await post('/api/login').send({ email: u.email, password: PASSWORD, remember: true }).expect(401);
      const done = await post('/api/auth/mfa/verify')
        .send({ mfa_token: first.body.mfa_token, code: u.app.code(1) })
        .expect(200);
      expect(done.body).toEqual({
        success: true,
        token: expect.any(String),
        uid: u.id,
        userTitle: null,
        firstName: null,
        lastName: null,
        expiresIn: 30 * 86400,
      });
      expect(decodeJwt(done.body.token)).toMatchObject({ aal: 'aal2', userId: u.id });
    });
  });

  it('keeps the admin able to sign in (no MFA) while all this goes on', async () => {
    await a.login(ADMIN_EMAIL, ADMIN_PASSWORD);
  });
});

describe('SMS codes through the signed webhook', () => {
  const sms = new SmsCatcher();
  let t: TestApp;
  let a: ReturnType<typeof api>;

  beforeAll(async () => {
    await sms.start();
    t = await startTestApp({ SMS_WEBHOOK_URL: sms.url, SMS_WEBHOOK_SECRET: sms.secret });
    a = api(t);
  });
  afterAll(async () => {
    await t.close();
    await sms.stop();
  });

  it('enrols a phone, sends each code as a signed POST, and signs in with amr sms', async () => {
    const email = 'sms-user@test.example.org';
    await a.createUser(email, 'viewer');
    const token = (await a.login(email, PASSWORD)).access_token;
    const bad = await request(t.url)
      .post('/api/auth/mfa/sms')
      .set(a.bearer(token))
      .send({ phone: '0770090012' })
      .expect(400);
    expect(bad.body.error.code).toBe('VALIDATION_ERROR');
    const enrol = await request(t.url)
      .post('/api/auth/mfa/sms')
      .set(a.bearer(token))
      .send({ phone: '+447700900123' })
      .expect(201);
    const first = await sms.waitFor('+447700900123');
    const confirmed = await request(t.url)
      .post(`/api/auth/mfa/factors/${enrol.body.factor_id}/confirm`)
      .set(a.bearer(token))
      .send({ code: codeIn(first.body) })
      .expect(200);
    expect(confirmed.body.factor).toMatchObject({ type: 'sms', name: 'Phone ending 0123' });
    expect(confirmed.body.recovery_codes).toHaveLength(10);

    const login = await request(t.url)
      .post('/api/auth/login')
      .send({ username: email, password: PASSWORD })
      .expect(401);
    const mfaToken = login.body.error.details.mfa_token as string;
    sms.messages.length = 0;
    await request(t.url)
      .post('/api/auth/mfa/challenge')
      .send({ mfa_token: mfaToken, factor_id: enrol.body.factor_id })
      .expect(202);
    const code = codeIn((await sms.waitFor('+447700900123')).body);
    const done = await request(t.url).post('/api/auth/mfa/verify').send({ mfa_token: mfaToken, code }).expect(200);
    expect(decodeJwt(done.body.access_token)).toMatchObject({ aal: 'aal2', amr: ['pwd', 'sms', 'mfa'] });
    // Every request the gateway got was signed; no code ever reached the log.
    expect(sms.requests.every((r) => r.signatureValid)).toBe(true);
    expect(t.logs.text).not.toContain(code);
  });
});

describe('MFA_REQUIRED_ROLES', () => {
  let t: TestApp;
  let a: ReturnType<typeof api>;

  beforeAll(async () => {
    t = await startTestApp({ MFA_REQUIRED_ROLES: 'researcher' });
    a = api(t);
  });
  afterAll(() => t.close());

  it('lets a researcher without a factor reach only enrolment, then asks for the factor and keeps it', async () => {
    const email = 'policy@test.example.org';
    await a.createUser(email, 'researcher');
    const aal1 = (await a.login(email, PASSWORD)).access_token;
    expect(decodeJwt(aal1).aal).toBe('aal1');
    const refused = await request(t.url).get('/api/studies').set(a.bearer(aal1)).expect(403);
    expect(refused.body.error.code).toBe('MFA_ENROLMENT_REQUIRED');
    await request(t.url).get('/api/auth/me').set(a.bearer(aal1)).expect(200);
    const enrolment = await request(t.url).post('/api/auth/mfa/totp').set(a.bearer(aal1)).send({}).expect(201);
    const app = authenticator(enrolment.body.secret);
    await request(t.url)
      .post(`/api/auth/mfa/factors/${enrolment.body.factor_id}/confirm`)
      .set(a.bearer(aal1))
      .send({ code: app.code() })
      .expect(200);
    // Still aal1 until the next sign-in, which asks for the factor.
    await request(t.url).get('/api/studies').set(a.bearer(aal1)).expect(403);
    const first = await request(t.url)
      .post('/api/auth/login')
      .send({ username: email, password: PASSWORD })
      .expect(401);
    const done = await request(t.url)
      .post('/api/auth/mfa/verify')
      .send({ mfa_token: first.body.error.details.mfa_token, code: app.code(1) })
      .expect(200);
    await request(t.url).get('/api/studies').set(a.bearer(done.body.access_token)).expect(200);
    const keep = await request(t.url)
      .delete(`/api/auth/mfa/factors/${enrolment.body.factor_id}`)
      .set(a.bearer(done.body.access_token))
      .expect(409);
    expect(keep.body.error.code).toBe('MFA_REQUIRED_BY_POLICY');
    // Other roles are not touched by the policy.
    await request(t.url)
      .get('/api/studies')
      .set(a.bearer(await a.adminToken()))
      .expect(200);
  });
});
