import request from 'supertest';
import { api, decodeJwt, PASSWORD, sameTime } from '../support/api';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestApp, TestApp } from '../support/harness';
import { SmsCatcher } from '../support/sms-catcher';
import { AccountChangesService } from '../../src/accounts/account-changes.service';

const codeIn = (text: string) => /\b(\d{6})\b/.exec(text)![1];
const linkIn = (text: string, path: string) =>
  new RegExp(`https?://\\S+${path}\\?token=([A-Za-z0-9_-]{43})`).exec(text)![1];

/**
 * API.md 12, "Who may change an account": the reproductions of issue 24, each written as the attacker or
 * the person did it, over HTTP against the real service, PostgreSQL, SMTP server and SMS webhook receiver.
 */
describe('who may change an account (API.md 12)', () => {
  const sms = new SmsCatcher();
  let t: TestApp;
  let a: ReturnType<typeof api>;
  let n = 0;
  const fresh = (prefix: string) => `${prefix}${++n}@trust.example.org`;

  beforeAll(async () => {
    await sms.start();
    t = await startTestApp({ SMS_WEBHOOK_URL: sms.url, SMS_WEBHOOK_SECRET: sms.secret });
    a = api(t);
  });
  afterAll(async () => {
    await t?.close();
    await sms.stop();
  });

  const post = (path: string, token?: string) => {
    const r = request(t.url).post(path);
    return token ? r.set(a.bearer(token)) : r;
  };
  const audit = async (event: string, userId?: string) =>
    (
      (
        await request(t.url)
          .get(`/api/audit?event=${event}&limit=100`)
          .set(a.bearer(await a.adminToken()))
          .expect(200)
      ).body.items as { user_id: string; details: Record<string, unknown> }[]
    ).filter((e) => !userId || e.user_id === userId);

  /** Every delegated credential of a user: an API key, an IAM token and a key:token pair (made before MFA). */
  async function delegated(email: string) {
    const { access_token: jwt } = await a.login(email, PASSWORD);
    const key = (await post('/api/api-keys', jwt).send({ name: 'ci' }).expect(201)).body.key as string;
    const iam = (await post('/v1/auth/token/').send({ username: email, password: PASSWORD }).expect(200)).body.token
      .key as string;
    const pair = (await post('/users/token').send({ client: 'web', email, password: PASSWORD }).expect(200)).body as {
      key: string;
      token: string;
    };
    return {
      jwt,
      schemes: {
        'X-API-Key': { 'X-API-Key': key },
        Token: { Authorization: `Token ${iam}` },
        Basic: { Authorization: `Basic ${Buffer.from(`${pair.key}:${pair.token}`).toString('base64')}` },
      } as Record<string, Record<string, string>>,
    };
  }

  /** Turns MFA on with the email factor, as the account page does; returns the aal1 token it used. */
  async function enableEmailFactor(email: string, jwt: string) {
    const enrol = await post('/api/auth/mfa/email', jwt).send({}).expect(201);
    const mail = await t.smtp.waitFor(email, (m) => m.subject === 'Your sign-in code');
    t.smtp.messages.splice(t.smtp.messages.indexOf(mail), 1);
    const done = await post(`/api/auth/mfa/factors/${enrol.body.factor_id}/confirm`, jwt)
      .send({ code: codeIn(mail.text) })
      .expect(200);
    expect(done.body.recovery_codes).toHaveLength(10);
    return done.body.recovery_codes as string[];
  }

  describe('1. a delegated credential cannot take over an account', () => {
    it('refuses PATCH /users with an API key, an IAM token or a Basic pair once MFA is on (403, key:token words)', async () => {
      const email = fresh('researcher');
      await a.createUser(email, 'researcher');
      const { jwt, schemes } = await delegated(email);
      await enableEmailFactor(email, jwt);
      for (const [scheme, headers] of Object.entries(schemes)) {
        const res = await request(t.url)
          .patch('/users')
          .set(headers)
          .send({ email: 'mallory@evil.example', password: 'Mallory-Owns-1t', current_password: PASSWORD });
        expect({ scheme, status: res.status, body: res.body }).toEqual({
          scheme,
          status: 403,
          body: { errors: ['Sign in to change this'] },
        });
      }
      const me = await request(t.url).get('/api/auth/me').set(schemes['X-API-Key']).expect(200);
      expect(me.body.email).toBe(email);
      await post('/api/auth/login').send({ username: email, password: PASSWORD }).expect(401); // MFA_REQUIRED, not changed
      expect(t.smtp.to('mallory@evil.example')).toHaveLength(0);
      expect((await audit('sensitive_action_refused', me.body.id)).length).toBeGreaterThanOrEqual(3);
    });

    it('refuses every sensitive portal route to delegated credentials with 403 SIGN_IN_REQUIRED', async () => {
      const email = fresh('keyholder');
      const user = await a.createUser(email, 'researcher');
      const { schemes } = await delegated(email);
      const res = await request(t.url)
        .post('/v1/auth/password/change/')
        .set(schemes.Token)
        .send({ old_password: 'wrong-Passw0rd', password: 'Another-Passw0rd9', password2: 'Another-Passw0rd9' });
      expect(res.status).toBe(400); // the IAM password change is one of the two exceptions: it asks old_password
      const adminKey = (
        await post('/api/api-keys', await a.adminToken())
          .send({ name: 'admin ci' })
          .expect(201)
      ).body.key as string;
      for (const [method, path, body] of [
        ['patch', `/api/users/${user.id}/role`, { role: 'admin' }],
        ['patch', `/api/users/${user.id}`, { is_active: false }],
        ['delete', `/api/users/${user.id}/mfa`, undefined],
        ['delete', `/api/users/${user.id}/sessions`, undefined],
        ['post', '/api/admin/signing-keys/rotate', {}],
        ['post', '/api/sso/providers', { id: 'x' }],
      ] as const) {
        const r = await request(t.url)[method](path).set('X-API-Key', adminKey).send(body);
        expect({ path, status: r.status, code: r.body.error?.code }).toEqual({
          path,
          status: 403,
          code: 'SIGN_IN_REQUIRED',
        });
      }
      // Data routes still work with the key, and non-admin role changes are not sensitive.
      await request(t.url).get('/api/users?limit=1').set('X-API-Key', adminKey).expect(200);
      await request(t.url)
        .patch(`/api/users/${user.id}/role`)
        .set('X-API-Key', adminKey)
        .send({ role: 'viewer' })
        .expect(200);
    });
  });

  describe('2. logout-all does what the README says', () => {
    it('ends every login session, key:token pair and temporary IAM token; API keys and permanent IAM tokens stay', async () => {
      const email = fresh('leaver');
      await a.createUser(email, 'researcher');
      const { jwt, schemes } = await delegated(email);
      const other = (await a.login(email, PASSWORD)).access_token;
      const permanent = (
        await request(t.url).post('/v1/tokens/').set(schemes.Token).send({ permanent: true }).expect(201)
      ).body.key as string;
      await post('/api/auth/logout-all', jwt).send({}).expect(204);
      for (const headers of [a.bearer(jwt), a.bearer(other), schemes.Basic, schemes.Token]) {
        await request(t.url).get('/api/auth/me').set(headers).expect(401);
      }
      await request(t.url).get('/api/auth/me').set(schemes['X-API-Key']).expect(200);
      await request(t.url).get('/api/auth/me').set('Authorization', `Token ${permanent}`).expect(200);
    });

    it('with {"include_keys": true} ends API keys and permanent IAM tokens too', async () => {
      const email = fresh('leaver');
      await a.createUser(email, 'researcher');
      const { jwt, schemes } = await delegated(email);
      const permanent = (
        await request(t.url).post('/v1/tokens/').set(schemes.Token).send({ permanent: true }).expect(201)
      ).body.key as string;
      await post('/api/auth/logout-all', jwt).send({ include_keys: true }).expect(204);
      for (const headers of [...Object.values(schemes), { Authorization: `Token ${permanent}` }]) {
        await request(t.url).get('/api/auth/me').set(headers).expect(401);
      }
      const [event] = await audit('logout_all', decodeJwt(jwt).sub as string);
      expect(event.details).toMatchObject({ include_keys: true, api_keys: 1 });
      await post('/api/auth/logout-all', (await a.login(email, PASSWORD)).access_token)
        .send({ include_keys: 'yes' })
        .expect(400);
    });
  });

  describe('4. a factor started before MFA was on', () => {
    it('cannot be confirmed after: the stolen session ends when MFA turns on, and an aal1 confirm is refused', async () => {
      const email = fresh('victim');
      await a.createUser(email, 'researcher');
      const stolen = (await a.login(email, PASSWORD)).access_token;
      const pending = await post('/api/auth/mfa/totp', stolen).send({ name: 'Attacker phone' }).expect(201);
      const victim = (await a.login(email, PASSWORD)).access_token;
      await enableEmailFactor(email, victim);
      // Turning MFA on ended every other sign-in credential ...
      await request(t.url).get('/api/auth/me').set(a.bearer(stolen)).expect(401);
      await request(t.url).get('/api/auth/me').set(a.bearer(victim)).expect(200);
      // ... and a confirm at aal1 is a sensitive action like any other once MFA is on.
      const res = await post(`/api/auth/mfa/factors/${pending.body.factor_id}/confirm`, victim)
        .send({ code: '123456' })
        .expect(403);
      expect(res.body.error.code).toBe('MFA_STEP_UP_REQUIRED');
      const status = await request(t.url).get('/api/auth/mfa').set(a.bearer(victim)).expect(200);
      expect(status.body.factors.map((f: { type: string }) => f.type)).toEqual(['email']);
    });
  });

  describe('5. admins and accounts with MFA', () => {
    it('refuses an admin made with an API key, and an aal1 admin acting on an account with MFA on', async () => {
      const adminJwt = await a.adminToken();
      const key = (await post('/api/api-keys', adminJwt).send({ name: 'before mfa' }).expect(201)).body.key;
      const made = await request(t.url)
        .post('/api/auth/register')
        .set('X-API-Key', key)
        .send({ email: fresh('newadmin'), password: PASSWORD, role: 'admin' });
      expect(made.status).toBe(403);
      expect(made.body.error.code).toBe('SIGN_IN_REQUIRED');
      // A coordinator-style creation (not admin) with the key still works: only the admin role is sensitive.
      await request(t.url)
        .post('/api/auth/register')
        .set('X-API-Key', key)
        .send({ email: fresh('viewer'), password: PASSWORD, role: 'viewer' })
        .expect(201);

      const protectedAdmin = fresh('mfaadmin');
      const target = await a.createUser(protectedAdmin, 'admin', PASSWORD, adminJwt);
      await enableEmailFactor(protectedAdmin, (await a.login(protectedAdmin, PASSWORD)).access_token);
      const second = fresh('aal1admin');
      await a.createUser(second, 'admin', PASSWORD, adminJwt);
      const aal1 = (await a.login(second, PASSWORD)).access_token;
      for (const [method, path, body] of [
        ['delete', `/api/users/${target.id}/mfa`, undefined],
        ['patch', `/api/users/${target.id}/role`, { role: 'viewer' }],
        ['patch', `/api/users/${target.id}`, { is_active: false }],
        ['delete', `/api/users/${target.id}/sessions`, undefined],
      ] as const) {
        const r = await request(t.url)[method](path).set(a.bearer(aal1)).send(body);
        expect({ path, status: r.status, code: r.body.error?.code }).toEqual({
          path,
          status: 403,
          code: 'MFA_STEP_UP_REQUIRED',
        });
      }
      const [refused] = await audit('sensitive_action_refused', decodeJwt(aal1).sub as string);
      expect(refused.details).toMatchObject({ reason: 'target_has_mfa' });
    });
  });

  describe('6. guess limits are counted before the guess is checked', () => {
    it('checks at most 5 of 45 parallel wrong codes on one mfa_token', async () => {
      const email = fresh('guessed');
      const u = await a.createUser(email, 'researcher');
      await enableEmailFactor(email, (await a.login(email, PASSWORD)).access_token);
      const first = await post('/api/auth/login').send({ username: email, password: PASSWORD }).expect(401);
      const mfaToken = first.body.error.details.mfa_token as string;
      const answers = await Promise.all(
        Array.from({ length: 45 }, (_, i) =>
          post('/api/auth/mfa/verify').send({ mfa_token: mfaToken, code: String(100000 + i) }),
        ),
      );
      const checked = answers.filter((r) => r.body.error?.code === 'INVALID_MFA_CODE').length;
      expect(checked).toBeLessThanOrEqual(5);
      expect(answers.every((r) => r.status === 401)).toBe(true);
      expect((await audit('mfa_failed', u.id)).length).toBeLessThanOrEqual(5);
    });

    it('13. locks the account after 10 wrong codes with 429 and Retry-After, however they are sent', async () => {
      const email = fresh('locked');
      await a.createUser(email, 'researcher');
      const recovery = await enableEmailFactor(email, (await a.login(email, PASSWORD)).access_token);
      const tokens = await Promise.all(
        [0, 1, 2].map(
          async () =>
            (await post('/api/auth/login').send({ username: email, password: PASSWORD }).expect(401)).body.error.details
              .mfa_token as string,
        ),
      );
      const answers = await Promise.all(
        tokens.flatMap((mfa_token) =>
          Array.from({ length: 5 }, (_, i) =>
            post('/api/auth/mfa/verify').send({ mfa_token, code: String(200000 + i) }),
          ),
        ),
      );
      expect(answers.filter((r) => r.body.error?.code === 'INVALID_MFA_CODE').length).toBeLessThanOrEqual(10);
      const locked = answers.filter((r) => r.status === 429);
      expect(locked.length).toBeGreaterThanOrEqual(5);
      for (const r of locked) expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      // A right recovery code is refused too for the rest of the window.
      const again = await post('/api/auth/login').send({ username: email, password: PASSWORD }).expect(401);
      const res = await post('/api/auth/mfa/verify').send({
        mfa_token: again.body.error.details.mfa_token,
        recovery_code: recovery[0],
      });
      expect(res.status).toBe(429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    });
  });

  describe('7. SMS and email sends are bounded', () => {
    it('allows 3 sends per number, 5 per account, 3 pending factors; 429 with Retry-After beyond', async () => {
      const email = fresh('pumper');
      await post('/users').send({ client: 'web', email, password: PASSWORD }).expect(201);
      const jwt = (await a.login(email, PASSWORD)).access_token;
      const send = (phone: string) => post('/api/auth/mfa/sms', jwt).send({ phone });
      for (let i = 0; i < 3; i++) expect((await send('+447700900201')).status).toBe(201);
      const fourth = await send('+447700900201');
      expect(fourth.status).toBe(429);
      expect(Number(fourth.headers['retry-after'])).toBeGreaterThan(0);
      expect((await send('+447700900202')).status).toBe(201);
      // Five sends for the account (three to the first number, one refused, one to the second)... the sixth:
      expect((await send('+447700900202')).status).toBe(201);
      const sixth = await send('+447700900203');
      expect(sixth.status).toBe(429);
      expect(sms.messages.filter((m) => m.to.startsWith('+4477009002')).length).toBe(5);
    });

    it('refuses a fourth pending factor', async () => {
      const email = fresh('pending');
      await a.createUser(email, 'viewer');
      const jwt = (await a.login(email, PASSWORD)).access_token;
      await post('/api/auth/mfa/totp', jwt).send({}).expect(201);
      await post('/api/auth/mfa/email', jwt).send({}).expect(201);
      await post('/api/auth/mfa/sms', jwt).send({ phone: '+447700900301' }).expect(201);
      const res = await post('/api/auth/mfa/sms', jwt).send({ phone: '+447700900302' });
      expect(res.status).toBe(429);
      expect(res.body.error.code).toBe('RATE_LIMIT_EXCEEDED');
    });
  });

  describe('8. login CSRF by a cross-site form', () => {
    it('refuses a form-encoded login whose Origin is another site (403, no cookie); the own origin signs in', async () => {
      const form = `username=${encodeURIComponent(ADMIN_EMAIL)}&password=${encodeURIComponent(ADMIN_PASSWORD)}&set_cookie=true`;
      const evil = await post('/api/auth/login').set('Origin', 'https://evil.example').type('form').send(form);
      expect(evil.status).toBe(403);
      expect(evil.headers['set-cookie']).toBeUndefined();
      const clinical = await post('/api/login')
        .set('Origin', 'https://evil.example')
        .type('form')
        .send(`email=${encodeURIComponent(ADMIN_EMAIL)}&password=x`);
      expect(clinical.status).toBe(403);
      expect(clinical.body).toMatchObject({ success: false, code: 'FORBIDDEN' });
      const own = await post('/api/auth/login').set('Origin', new URL(t.config.appUrl).origin).type('form').send(form);
      expect(own.status).toBe(200);
      const noOrigin = await post('/api/auth/login').type('form').send(form);
      expect(noOrigin.status).toBe(200);
    });
  });

  describe('9. passkey sign-in options', () => {
    it('gives an address without passkeys a decoy credential id with the shape of a real one (20 bytes)', async () => {
      const res = await post('/api/auth/passkeys/login/options')
        .send({ email: 'nobody@trust.example.org' })
        .expect(200);
      const [decoy] = res.body.allowCredentials as { id: string }[];
      expect(decoy.id).toMatch(/^[A-Za-z0-9_-]{27}$/);
      expect(Buffer.from(decoy.id, 'base64url')).toHaveLength(20);
      expect(Buffer.from(decoy.id, 'base64url').toString('base64url')).toBe(decoy.id);
      const again = await post('/api/auth/passkeys/login/options').send({ email: 'nobody@trust.example.org' });
      expect(again.body.allowCredentials[0].id).toBe(decoy.id);
    });
  });

  describe('10. provider updates', () => {
    it.each([
      ['name'],
      ['issuer'],
      ['client_secret'],
      ['default_role'],
      ['scopes'],
      ['entry_point'],
      ['idp_certificate'],
      ['domains'],
    ])('refuses {"%s": null} with 400', async (field) => {
      const res = await request(t.url)
        .patch('/api/sso/providers/some-provider')
        .set(a.bearer(await a.adminToken()))
        .send({ [field]: null });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(res.body.error.details[field]).toMatch(/must have a value/);
    });

    it('refuses empty strings and an empty domain list', async () => {
      for (const [field, value] of [
        ['name', '  '],
        ['client_id', ''],
        ['domains', []],
      ] as const) {
        const res = await request(t.url)
          .patch('/api/sso/providers/some-provider')
          .set(a.bearer(await a.adminToken()))
          .send({ [field]: value });
        expect(res.status).toBe(400);
        expect(Object.keys(res.body.error.details)).toEqual([field]);
      }
    });
  });

  describe('12. look-alike addresses', () => {
    it('refuses a local part that mixes Latin and Cyrillic or Greek, on every sign-up route', async () => {
      await post('/users').send({ client: 'web', email: 'pat@lookalike.example', password: PASSWORD }).expect(201);
      const cyrillic = await post('/users').send({
        client: 'web',
        email: 'p\u0430t@lookalike.example',
        password: PASSWORD,
      });
      expect(cyrillic.status).toBe(400);
      expect(cyrillic.body.errors.join(' ')).toMatch(/mix alphabets/);
      const greek = await post('/api/auth/register', await a.adminToken()).send({
        email: '\u03c1at@lookalike.example',
        password: PASSWORD,
        role: 'viewer',
      });
      expect(greek.status).toBe(400);
      const clinical = await post('/api/register').send({
        title: 'Dr.',
        firstName: 'P',
        lastName: 'T',
        email: 'p\u0430t2@lookalike.example',
        password: PASSWORD,
        specialty: 'x',
        ehr_system_type: 'x',
        ehr_system_name: 'x',
      });
      expect(clinical.status).toBe(400);
      expect(clinical.body.success).toBe(false);
      // One script, whatever it is, is fine.
      await post('/users')
        .send({ client: 'web', email: '\u0438\u0432\u0430\u043d@lookalike.example', password: PASSWORD })
        .expect(201);
    });
  });

  describe('the key:token PATCH /users', () => {
    it('asks for a new address by a link to it; the old address is told at once; the link works once', async () => {
      const email = fresh('mover');
      const user = await a.createUser(email, 'researcher');
      const pair = (await post('/users/token').send({ client: 'web', email, password: PASSWORD }).expect(200)).body;
      const basic = { Authorization: `Basic ${Buffer.from(`${pair.key}:${pair.token}`).toString('base64')}` };
      const next = fresh('moved');
      const res = await request(t.url).patch('/users').set(basic).send({ email: next }).expect(200);
      expect(res.body).toMatchObject({ email, pending_email: next });
      const notice = await t.smtp.waitFor(email, (m) => m.subject.startsWith('Security notice'));
      expect(notice.text).toMatch(/change of your email address was asked for/);
      expect(notice.text).toMatch(/From IP address/);
      const mail = await t.smtp.waitFor(next, (m) => m.subject === 'Confirm your new email address');
      const token = linkIn(mail.text, '/api/auth/email/confirm');
      expect((await request(t.url).get('/users').set(basic).expect(200)).body.email).toBe(email);
      const confirmed = await request(t.url).get(`/api/auth/email/confirm?token=${token}`).expect(200);
      expect(confirmed.body.email).toBe(next);
      const me = await request(t.url).get('/users').set(basic).expect(200);
      expect(me.body).toMatchObject({ email: next, email_verified: true });
      const reused = await post('/api/auth/email/confirm').send({ token });
      expect(reused.status).toBe(401);
      expect(reused.body.error.code).toBe('INVALID_TOKEN');
      await post('/api/auth/email/confirm').send({}).expect(400);
      await t.smtp.waitFor(email, (m) => m.text.includes(`changed to ${next}`));
      expect((await audit('email_change_requested', user.id)).length).toBe(1);
      expect((await audit('email_changed', user.id)).length).toBe(1);
      const taken = await request(t.url).patch('/users').set(basic).send({ email: ADMIN_EMAIL });
      expect(taken.status).toBe(409);
      expect(taken.body).toEqual({ errors: ['That email is already taken'] });
    });

    it('changes the password only with current_password (400 without it, 401 when wrong)', async () => {
      const email = fresh('pw');
      await a.createUser(email, 'researcher');
      const pair = (await post('/users/token').send({ client: 'web', email, password: PASSWORD }).expect(200)).body;
      const basic = { Authorization: `Basic ${Buffer.from(`${pair.key}:${pair.token}`).toString('base64')}` };
      const missing = await request(t.url).patch('/users').set(basic).send({ password: 'Brand-New-Passw0rd' });
      expect(missing.status).toBe(400);
      expect(missing.body).toEqual({ errors: ['current_password is required'] });
      const wrong = await request(t.url)
        .patch('/users')
        .set(basic)
        .send({ password: 'Brand-New-Passw0rd', current_password: 'Not-The-Passw0rd' });
      expect(wrong.status).toBe(401);
      await request(t.url)
        .patch('/users')
        .set(basic)
        .send({ password: 'Brand-New-Passw0rd', current_password: PASSWORD })
        .expect(200);
      await a.login(email, 'Brand-New-Passw0rd');
      await t.smtp.waitFor(email, (m) => m.subject === 'Security notice: your password was changed');
    });
  });

  describe('forgot password', () => {
    it('mails a 30-minute link that works once, ends every credential, and still asks for MFA', async () => {
      const email = fresh('forgetful');
      const user = await a.createUser(email, 'researcher');
      const { jwt, schemes } = await delegated(email);
      const recovery = await enableEmailFactor(email, jwt);
      const unknown = await post('/api/auth/password/forgot').send({ email: 'nobody@trust.example.org' }).expect(202);
      const known = await post('/api/auth/password/forgot').send({ email }).expect(202);
      expect(known.body).toEqual(unknown.body);
      const older = linkIn((await t.smtp.waitFor(email, (m) => m.subject === 'Reset your password')).text, '/reset');
      t.smtp.messages.splice(0);
      await post('/api/auth/password/forgot').send({ email }).expect(202);
      const token = linkIn((await t.smtp.waitFor(email, (m) => m.subject === 'Reset your password')).text, '/reset');
      // A newer link replaces the older one.
      expect((await post('/api/auth/password/reset').send({ token: older, password: 'Fresh-Start-2024' })).status).toBe(
        401,
      );
      // A password the policy refuses does not spend the link.
      const weak = await post('/api/auth/password/reset').send({ token, password: 'short' });
      expect(weak.status).toBe(400);
      expect(weak.body.error.code).toBe('VALIDATION_ERROR');
      await post('/api/auth/password/reset').send({ token, password: 'Fresh-Start-2024' }).expect(204);
      const twice = await post('/api/auth/password/reset').send({ token, password: 'Fresh-Start-2025' });
      expect(twice.status).toBe(401);
      expect(twice.body.error.code).toBe('INVALID_TOKEN');
      for (const headers of [a.bearer(jwt), ...Object.values(schemes)]) {
        await request(t.url).get('/api/auth/me').set(headers).expect(401);
      }
      await post('/api/auth/login').send({ username: email, password: PASSWORD }).expect(401);
      const next = await post('/api/auth/login').send({ username: email, password: 'Fresh-Start-2024' }).expect(401);
      expect(next.body.error.code).toBe('MFA_REQUIRED');
      await post('/api/auth/mfa/verify')
        .send({ mfa_token: next.body.error.details.mfa_token, recovery_code: recovery[0] })
        .expect(200);
      await t.smtp.waitFor(email, (m) => m.subject.startsWith('Security notice') && /password was reset/.test(m.text));
      expect((await audit('password_reset_requested', user.id)).length).toBe(2);
      expect((await audit('password_reset', user.id)).length).toBe(1);
      await post('/api/auth/password/reset')
        .send({ token: 'x'.repeat(43) })
        .expect(400);
      await post('/api/auth/password/forgot').send({ email: 'not an address' }).expect(400);
    });

    it('answers an unknown address in the same time as a known one', async () => {
      const email = fresh('timed');
      await a.createUser(email, 'viewer');
      const verdict = await sameTime(
        () => post('/api/auth/password/forgot').send({ email }).expect(202),
        (i) =>
          post('/api/auth/password/forgot')
            .send({ email: `unknown${i}@trust.example.org` })
            .expect(202),
        { floorMs: 3 },
      );
      expect(verdict).toBe('the same time');
    });

    it('is rate limited per IP and address (RATE_LIMIT_MAGIC_LINK)', async () => {
      const limited = await startTestApp({ RATE_LIMIT_MAGIC_LINK: '2/15m', KEEP_DATABASE: '1' });
      try {
        for (let i = 0; i < 2; i++) {
          await request(limited.url)
            .post('/api/auth/password/forgot')
            .send({ email: 'x@trust.example.org' })
            .expect(202);
        }
        const refused = await request(limited.url)
          .post('/api/auth/password/forgot')
          .send({ email: 'x@trust.example.org' });
        expect(refused.status).toBe(429);
        expect(refused.headers['retry-after']).toBeDefined();
      } finally {
        await limited.close();
      }
    });
  });

  describe('sign-in credentials carry auth_time', () => {
    it('keeps the sign-in time across a refresh', async () => {
      const login = await a.login(ADMIN_EMAIL, ADMIN_PASSWORD);
      const first = decodeJwt(login.access_token);
      expect(typeof first.auth_time).toBe('number');
      await new Promise((r) => setTimeout(r, 1100));
      const refreshed = await post('/api/auth/refresh').send({ refresh_token: login.refresh_token }).expect(200);
      const second = decodeJwt(refreshed.body.access_token);
      expect(second.auth_time).toBe(first.auth_time);
      expect(second.iat as number).toBeGreaterThan(first.iat as number);
    });
  });

  describe('security notices', () => {
    it('mails the account for a sensitive action that succeeds, with what, when, IP and browser, and no secret', async () => {
      const email = fresh('noticed');
      await a.createUser(email, 'viewer');
      const jwt = (await a.login(email, PASSWORD)).access_token;
      await post('/api/auth/mfa/totp', jwt).set('User-Agent', 'NoticeTest/1.0').send({}).expect(201);
      const mail = await t.smtp.waitFor(email, (m) => m.subject.startsWith('Security notice'));
      expect(mail.text).toMatch(/authenticator app/);
      expect(mail.text).toMatch(/NoticeTest\/1\.0/);
      expect(mail.text).toMatch(/When: \d{4}-\d\d-\d\dT/);
      expect(mail.text).not.toMatch(/otpauth|secret=/i);
    });
  });

  describe('review of the trust work', () => {
    it('judges a disable by what the DTO will make of is_active ("false", 0, "no", a form field), not by === false', async () => {
      const adminJwt = await a.adminToken();
      const adminKey = (await post('/api/api-keys', adminJwt).send({ name: 'review' }).expect(201)).body.key as string;
      const victim = await a.createUser(fresh('disabled'), 'researcher', PASSWORD, adminJwt);
      for (const body of [{ is_active: 'false' }, { is_active: 0 }, { is_active: 'no' }, { is_active: '' }]) {
        const r = await request(t.url).patch(`/api/users/${victim.id}`).set('X-API-Key', adminKey).send(body);
        expect({ body, status: r.status, code: r.body.error?.code }).toEqual({
          body,
          status: 403,
          code: 'SIGN_IN_REQUIRED',
        });
      }
      const form = await request(t.url)
        .patch(`/api/users/${victim.id}`)
        .set('X-API-Key', adminKey)
        .type('form')
        .send('is_active=false');
      expect(form.status).toBe(403);
      // An aal1 admin and an account with MFA on: the same spellings need aal2.
      const protectedEmail = fresh('mfadisable');
      const target = await a.createUser(protectedEmail, 'researcher', PASSWORD, adminJwt);
      await enableEmailFactor(protectedEmail, (await a.login(protectedEmail, PASSWORD)).access_token);
      const r = await request(t.url)
        .patch(`/api/users/${target.id}`)
        .set(a.bearer(adminJwt))
        .send({ is_active: 'false' });
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('MFA_STEP_UP_REQUIRED');
      for (const id of [victim.id, target.id]) {
        const user = await request(t.url).get(`/api/users/${id}`).set(a.bearer(adminJwt)).expect(200);
        expect(user.body.is_active).toBe(true);
      }
      // Enabling stays open to the key, as before.
      await request(t.url)
        .patch(`/api/users/${victim.id}`)
        .set('X-API-Key', adminKey)
        .send({ is_active: 'true' })
        .expect(200);
    });

    it('ends a pending email change with a password reset, logout-all, MFA turning on or the account disabled', async () => {
      /** A thief with a key:token pair asks for mallory's address; returns the link mallory receives. */
      const ask = async (email: string, basic: Record<string, string>, mallory: string) => {
        await request(t.url).patch('/users').set(basic).send({ email: mallory }).expect(200);
        const mail = await t.smtp.waitFor(mallory, (m) => m.subject === 'Confirm your new email address');
        return linkIn(mail.text, '/api/auth/email/confirm');
      };
      const pairOf = async (email: string) => {
        const pair = (await post('/users/token').send({ client: 'web', email, password: PASSWORD }).expect(200)).body;
        return { Authorization: `Basic ${Buffer.from(`${pair.key}:${pair.token}`).toString('base64')}` };
      };
      const refused = async (token: string, email: string) => {
        const r = await request(t.url).get(`/api/auth/email/confirm?token=${token}`);
        expect(r.status).toBe(401);
        expect(r.body.error.code).toBe('INVALID_TOKEN');
        expect(
          (
            await request(t.url)
              .get('/users')
              .set(await pairOf(email))
              .expect(200)
          ).body.email,
        ).toBe(email);
      };

      // 1. The owner does what the security notice says: resets the password.
      const reset = fresh('resetter');
      await a.createUser(reset, 'researcher');
      const stolen = await ask(reset, await pairOf(reset), fresh('mallory'));
      await post('/api/auth/password/forgot').send({ email: reset }).expect(202);
      const token = linkIn((await t.smtp.waitFor(reset, (m) => m.subject === 'Reset your password')).text, '/reset');
      await post('/api/auth/password/reset')
        .send({ token, password: PASSWORD.split('').reverse().join('') })
        .expect(204);
      const r1 = await request(t.url).get(`/api/auth/email/confirm?token=${stolen}`);
      expect({ status: r1.status, code: r1.body.error?.code }).toEqual({ status: 401, code: 'INVALID_TOKEN' });

      // 2. logout-all.
      const leaver = fresh('leaver');
      await a.createUser(leaver, 'researcher');
      const stolen2 = await ask(leaver, await pairOf(leaver), fresh('mallory'));
      await post('/api/auth/logout-all', (await a.login(leaver, PASSWORD)).access_token)
        .send({})
        .expect(204);
      await refused(stolen2, leaver);

      // 3. MFA turns on: a change asked for before is refused after, as a factor started before is.
      const careful = fresh('careful');
      await a.createUser(careful, 'researcher');
      const stolen3 = await ask(careful, await pairOf(careful), fresh('mallory'));
      await enableEmailFactor(careful, (await a.login(careful, PASSWORD)).access_token);
      const r3 = await request(t.url).get(`/api/auth/email/confirm?token=${stolen3}`);
      expect({ status: r3.status, code: r3.body.error?.code }).toEqual({ status: 401, code: 'INVALID_TOKEN' });
      const me = await post('/api/auth/login').send({ username: careful, password: PASSWORD }).expect(401);
      expect(me.body.error.code).toBe('MFA_REQUIRED');

      // 4. An account disabled meanwhile takes no new address.
      const gone = fresh('gone');
      const goneUser = await a.createUser(gone, 'researcher');
      const stolen4 = await ask(gone, await pairOf(gone), fresh('mallory'));
      const adminJwt = await a.adminToken();
      await request(t.url)
        .patch(`/api/users/${goneUser.id}`)
        .set(a.bearer(adminJwt))
        .send({ is_active: false })
        .expect(200);
      const r4 = await request(t.url).get(`/api/auth/email/confirm?token=${stolen4}`);
      expect({ status: r4.status, code: r4.body.error?.code }).toEqual({ status: 401, code: 'INVALID_TOKEN' });
      const after = await request(t.url).get(`/api/users/${goneUser.id}`).set(a.bearer(adminJwt)).expect(200);
      expect(after.body.email).toBe(gone);
    });

    it('lets exactly one of ten parallel resets with one link through', async () => {
      const email = fresh('raced');
      await a.createUser(email, 'viewer');
      await post('/api/auth/password/forgot').send({ email }).expect(202);
      const token = linkIn((await t.smtp.waitFor(email, (m) => m.subject === 'Reset your password')).text, '/reset');
      const statuses = (
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            post('/api/auth/password/reset').send({ token, password: `Parallel-Reset-${i}x` }),
          ),
        )
      ).map((r) => r.status);
      expect(statuses.filter((s) => s === 204)).toHaveLength(1);
      expect(statuses.filter((s) => s === 401)).toHaveLength(9);
    });

    it('counts current_password and old_password guesses per account before checking them (429 with Retry-After)', async () => {
      const limited = await startTestApp({ RATE_LIMIT_LOGIN: '3/15m', KEEP_DATABASE: '1' });
      try {
        const l = api(limited);
        const adminJwt = (await l.login(ADMIN_EMAIL, ADMIN_PASSWORD)).access_token;
        const keyToken = `guessed-kt-${Date.now()}@trust.example.org`;
        const iamUser = `guessed-iam-${Date.now()}@trust.example.org`;
        await l.createUser(keyToken, 'researcher', PASSWORD, adminJwt);
        await l.createUser(iamUser, 'researcher', PASSWORD, adminJwt);
        const pair = (
          await request(limited.url)
            .post('/users/token')
            .send({ client: 'web', email: keyToken, password: PASSWORD })
            .expect(200)
        ).body;
        const basic = { Authorization: `Basic ${Buffer.from(`${pair.key}:${pair.token}`).toString('base64')}` };
        const guesses = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            request(limited.url)
              .patch('/users')
              .set(basic)
              .send({ password: 'Brand-New-Passw0rd', current_password: `Wrong-Guess-${i}A` }),
          ),
        );
        const statuses = guesses.map((r) => r.status);
        expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(3);
        const blocked = guesses.filter((r) => r.status === 429);
        expect(blocked.length).toBeGreaterThanOrEqual(9);
        expect(blocked[0].headers['retry-after']).toMatch(/^\d+$/);
        expect(blocked[0].body.errors).toHaveLength(1);
        // The right password is not checked either until the window ends: the guesses stopped for real.
        await request(limited.url)
          .patch('/users')
          .set(basic)
          .send({ password: 'Brand-New-Passw0rd', current_password: PASSWORD })
          .expect(429);

        const iam = (
          await request(limited.url).post('/v1/auth/token/').send({ username: iamUser, password: PASSWORD }).expect(200)
        ).body.token.key as string;
        const iamGuesses = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            request(limited.url)
              .post('/v1/auth/password/change/')
              .set('Authorization', `Token ${iam}`)
              .send({
                old_password: `Wrong-Guess-${i}A`,
                password: 'Brand-New-Passw0rd',
                password2: 'Brand-New-Passw0rd',
              }),
          ),
        );
        expect(iamGuesses.filter((r) => r.status === 400).length).toBeLessThanOrEqual(3);
        const iamBlocked = iamGuesses.find((r) => r.status === 429)!;
        expect(iamBlocked.headers['retry-after']).toMatch(/^\d+$/);
        expect(iamBlocked.body.error_codes).toBeDefined();
      } finally {
        await limited.close();
      }
    });

    it('gives back a right current_password: a person who types it right is never counted', async () => {
      const limited = await startTestApp({ RATE_LIMIT_LOGIN: '2/15m', KEEP_DATABASE: '1' });
      try {
        const l = api(limited);
        const email = `changer-${Date.now()}@trust.example.org`;
        await l.createUser(email, 'researcher', PASSWORD, (await l.login(ADMIN_EMAIL, ADMIN_PASSWORD)).access_token);
        const pair = (
          await request(limited.url).post('/users/token').send({ client: 'web', email, password: PASSWORD }).expect(200)
        ).body;
        const basic = { Authorization: `Basic ${Buffer.from(`${pair.key}:${pair.token}`).toString('base64')}` };
        let current = PASSWORD;
        for (let i = 0; i < 4; i++) {
          const next = `Changed-Passw0rd-${i}`;
          await request(limited.url)
            .patch('/users')
            .set(basic)
            .send({ password: next, current_password: current })
            .expect(200);
          current = next;
        }
      } finally {
        await limited.close();
      }
    });

    it('mails reset links to one address at most RATE_LIMIT_MAGIC_LINK times a window, whatever the IP', async () => {
      const limited = await startTestApp({ RATE_LIMIT_MAGIC_LINK: '2/15m', TRUST_PROXY: 'true', KEEP_DATABASE: '1' });
      try {
        const email = `bombed-${Date.now()}@trust.example.org`;
        await api(limited).createUser(email, 'viewer');
        for (let i = 0; i < 5; i++) {
          const r = await request(limited.url)
            .post('/api/auth/password/forgot')
            .set('X-Forwarded-For', `203.0.113.${i + 1}`)
            .send({ email });
          expect(r.status).toBe(202);
        }
        await limited.app.get(AccountChangesService).settled();
        await new Promise((r) => setTimeout(r, 500));
        expect(limited.smtp.to(email).filter((m) => m.subject === 'Reset your password')).toHaveLength(2);
      } finally {
        await limited.close();
      }
    });
  });
});
