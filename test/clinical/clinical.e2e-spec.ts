import request from 'supertest';
import { api, decodeJwt, PASSWORD } from '../support/api';
import { startTestApp, TestApp } from '../support/harness';

const signup = (email: string, extra: Record<string, unknown> = {}) => ({
  title: 'Dr.',
  firstName: 'Grace',
  lastName: 'Hopper',
  email,
  password: PASSWORD,
  specialty: 'Cardiology',
  ehr_system_type: 'cloud',
  ehr_system_name: 'Epic',
  ...extra,
});

const linkToken = (text: string): string => {
  const m = /\/api\/verification\/verify\?token=([A-Za-z0-9_-]+)/.exec(text);
  if (!m) throw new Error(`no verification link in:\n${text}`);
  return m[1];
};

describe('clinical: sign-up, verification, login', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ APP_URL: 'https://app.test.example.org' });
  });
  afterAll(() => t.close());

  it('registers a doctor, mails a verification link, and the link verifies the address', async () => {
    const res = await request(t.url)
      .post('/api/register')
      .send(signup('grace@clinic.test', { role: 'admin' }))
      .expect(201);
    expect(res.body).toEqual({
      success: true,
      message: 'User registered successfully. Please verify your email.',
      user: { id: expect.any(String), email: 'grace@clinic.test', isVerified: false },
    });
    const [row] = await t.db.query(
      `SELECT role, email_verified, title, specialty, ehr_system_name FROM users WHERE id = $1`,
      [res.body.user.id],
    );
    expect(row).toEqual({
      role: 'doctor',
      email_verified: false,
      title: 'Dr.',
      specialty: 'Cardiology',
      ehr_system_name: 'Epic',
    });

    const before = await request(t.url)
      .post('/api/login')
      .send({ email: 'grace@clinic.test', password: PASSWORD })
      .expect(403);
    expect(before.body).toEqual({ success: false, error: 'Email verification required', code: 'EMAIL_NOT_VERIFIED' });
    // Without the password nothing is revealed about the account's state.
    const wrong = await request(t.url)
      .post('/api/login')
      .send({ email: 'grace@clinic.test', password: 'Wrong-Pass-123' })
      .expect(401);
    expect(wrong.body).toEqual({ success: false, error: 'Invalid email or password', code: 'INVALID_CREDENTIALS' });

    const mail = await t.smtp.waitFor('grace@clinic.test');
    expect(mail.text).toContain('https://app.test.example.org/api/verification/verify?token=');
    const token = linkToken(mail.text);
    const verified = await request(t.url).get(`/api/verification/verify?token=${token}`).expect(200);
    expect(verified.body).toEqual({ success: true, message: 'Email verified successfully' });
    const again = await request(t.url).get(`/api/verification/verify?token=${token}`).expect(400);
    expect(again.body).toMatchObject({ success: false, code: 'INVALID_VERIFICATION_TOKEN' });

    const login = await request(t.url)
      .post('/api/login')
      .send({ email: 'grace@clinic.test', password: PASSWORD })
      .expect(200);
    expect(login.body).toEqual({
      success: true,
      token: expect.any(String),
      uid: res.body.user.id,
      userTitle: 'Dr.',
      firstName: 'Grace',
      lastName: 'Hopper',
      expiresIn: 86400,
    });
    const claims = decodeJwt(login.body.token);
    expect(claims.userId).toBe(res.body.user.id);
    expect(claims.sub).toBe(res.body.user.id);
    expect((claims.exp as number) - (claims.iat as number)).toBe(86400);
  });

  it("gives 30 days with remember: true, read from the token's exp", async () => {
    const res = await request(t.url)
      .post('/api/login')
      .send({ email: 'grace@clinic.test', password: PASSWORD, remember: true })
      .expect(200);
    expect(res.body.expiresIn).toBe(30 * 86400);
    const claims = decodeJwt(res.body.token);
    expect((claims.exp as number) - (claims.iat as number)).toBe(30 * 86400);
  });

  it('issues the portal kind of JWT: it works on /api/auth/me and dies with /api/auth/logout', async () => {
    const { token } = (
      await request(t.url).post('/api/login').send({ email: 'grace@clinic.test', password: PASSWORD }).expect(200)
    ).body;
    await request(t.url).get('/api/auth/me').set('Authorization', `Bearer ${token}`).expect(200);
    await request(t.url).post('/api/auth/logout').set('Authorization', `Bearer ${token}`).expect(204);
    await request(t.url).get('/api/appointments').set('Authorization', `Bearer ${token}`).expect(401);
  });

  it.each(['title', 'firstName', 'lastName', 'email', 'password', 'specialty', 'ehr_system_type', 'ehr_system_name'])(
    'names a missing %s',
    async (field) => {
      const body: Record<string, unknown> = signup(`missing-${field}@clinic.test`);
      delete body[field];
      const res = await request(t.url).post('/api/register').send(body).expect(400);
      expect(res.body.success).toBe(false);
      expect(res.body.code).toBe('VALIDATION_ERROR');
      expect(res.body.error).toContain(field);
    },
  );

  it('says what a weak password is missing', async () => {
    const res = await request(t.url)
      .post('/api/register')
      .send(signup('weak@clinic.test', { password: 'alllowercase' }))
      .expect(400);
    expect(res.body).toMatchObject({ success: false, code: 'VALIDATION_ERROR' });
    expect(res.body.error).toMatch(/upper-case letter/);
    expect(res.body.error).toMatch(/digit/);
  });

  it('answers a taken email (any case) with 409 EMAIL_EXISTS', async () => {
    const res = await request(t.url).post('/api/register').send(signup('GRACE@clinic.test')).expect(409);
    expect(res.body).toMatchObject({ success: false, code: 'EMAIL_EXISTS' });
  });

  it('resends: the same answer for every address, and only the newest link works', async () => {
    await request(t.url).post('/api/register').send(signup('ada@clinic.test')).expect(201);
    const first = linkToken((await t.smtp.waitFor('ada@clinic.test')).text);
    const a = await request(t.url).post('/api/verification/resend').send({ email: 'ada@clinic.test' }).expect(200);
    const b = await request(t.url).post('/api/verification/resend').send({ email: 'nobody@clinic.test' }).expect(200);
    const c = await request(t.url).post('/api/verification/resend').send({ email: 'grace@clinic.test' }).expect(200);
    expect(a.body).toEqual(b.body);
    expect(c.body).toEqual(b.body);
    const second = linkToken((await t.smtp.waitFor('ada@clinic.test', (m) => linkToken(m.text) !== first)).text);
    await request(t.url).post('/api/verification/verify').send({ token: first }).expect(400);
    await request(t.url).post('/api/verification/verify').send({ token: second }).expect(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(t.smtp.to('nobody@clinic.test')).toHaveLength(0);
    expect(t.smtp.to('grace@clinic.test')).toHaveLength(1); // verified already: no new mail
    await request(t.url).post('/api/verification/resend').send({ email: 'bad' }).expect(400);
  });

  it('verifies exactly once when one link is followed 50 times at once', async () => {
    await request(t.url).post('/api/register').send(signup('race@clinic.test')).expect(201);
    const token = linkToken((await t.smtp.waitFor('race@clinic.test')).text);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => request(t.url).post('/api/verification/verify').send({ token })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400)).toHaveLength(49);
  });

  it('creates one account when 50 sign-ups race for one email', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, () => request(t.url).post('/api/register').send(signup('dup@clinic.test'))),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(49);
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM users WHERE lower(email) = 'dup@clinic.test'`);
    expect(n).toBe(1);
  });

  it('refuses an expired verification link', async () => {
    await request(t.url).post('/api/register').send(signup('late@clinic.test')).expect(201);
    const token = linkToken((await t.smtp.waitFor('late@clinic.test')).text);
    await t.db.query(`UPDATE email_verifications SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`);
    await request(t.url).post('/api/verification/verify').send({ token }).expect(400);
    await request(t.url).get('/api/verification/verify').expect(400);
    await request(t.url).get('/api/verification/verify?token=x&token=y').expect(400);
  });
});

describe('clinical: rate limits', () => {
  it('answers the 4th sign-up in an hour with 429 and Retry-After, in the clinical dialect', async () => {
    const t = await startTestApp({ RATE_LIMIT_REGISTER: '3/1h' });
    try {
      for (let i = 0; i < 3; i++)
        await request(t.url)
          .post('/api/register')
          .send(signup(`r${i}@clinic.test`))
          .expect(201);
      const res = await request(t.url).post('/api/register').send(signup('r4@clinic.test')).expect(429);
      expect(res.body).toEqual({
        success: false,
        error: 'Too many requests, try again later',
        code: 'RATE_LIMIT_EXCEEDED',
      });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(3500);
    } finally {
      await t.close();
    }
  });

  it('limits login to 5 per 15 minutes and resend to 5 per 30 minutes', async () => {
    const t = await startTestApp({ RATE_LIMIT_LOGIN: '5/15m', RATE_LIMIT_RESEND: '5/30m' });
    try {
      for (let i = 0; i < 5; i++)
        await request(t.url).post('/api/login').send({ email: 'x@clinic.test', password: 'Wrong-1a' }).expect(401);
      const login = await request(t.url)
        .post('/api/login')
        .send({ email: 'x@clinic.test', password: 'Wrong-1a' })
        .expect(429);
      expect(login.body.code).toBe('RATE_LIMIT_EXCEEDED');
      for (let i = 0; i < 5; i++)
        await request(t.url)
          .post('/api/verification/resend')
          .send({ email: `y${i}@clinic.test` })
          .expect(200);
      const resend = await request(t.url).post('/api/verification/resend').send({ email: 'z@clinic.test' }).expect(429);
      expect(resend.headers['retry-after']).toBeDefined();
    } finally {
      await t.close();
    }
  });
});

describe('clinical: subscriptions and per-user data', () => {
  let t: TestApp;
  let h: ReturnType<typeof api>;
  let admin: string;
  const ids: Record<string, string> = {};
  const tokens: Record<string, string> = {};

  const subscribe = (who: string, status: string, ends_at: string | null) =>
    request(t.url)
      .patch(`/api/users/${ids[who]}/subscription`)
      .set(h.bearer(admin))
      .send({ status, ends_at })
      .expect(200);
  const book = (who: string, patient: string) =>
    request(t.url)
      .post('/api/appointments')
      .set(h.bearer(tokens[who]))
      .send({ patient_id: ids[patient], scheduled_at: '2026-12-01T09:30:00Z', reason: `check-up of ${patient}` });

  beforeAll(async () => {
    t = await startTestApp();
    h = api(t);
    admin = await h.adminToken();
    for (const [name, role] of [
      ['doc1', 'doctor'],
      ['doc2', 'doctor'],
      ['pat1', 'patient'],
      ['pat2', 'patient'],
    ]) {
      ids[name] = (await h.createUser(`${name}@clinic.test`, role, PASSWORD, admin)).id;
      await t.db.query(`UPDATE users SET email_verified = true WHERE id = $1`, [ids[name]]);
      tokens[name] = (
        await request(t.url)
          .post('/api/login')
          .send({ email: `${name}@clinic.test`, password: PASSWORD })
          .expect(200)
      ).body.token;
    }
  });
  afterAll(() => t.close());

  it('refuses a paid route without a subscription (403 SUBSCRIPTION_REQUIRED)', async () => {
    const res = await book('doc1', 'pat1').expect(403);
    expect(res.body).toEqual({
      success: false,
      error: 'An active subscription is required',
      code: 'SUBSCRIPTION_REQUIRED',
    });
  });

  it('allows it with an active subscription, and refuses it again once the end date has passed', async () => {
    await subscribe('doc1', 'active', new Date(Date.now() + 86400_000).toISOString());
    await book('doc1', 'pat1').expect(201);
    await subscribe('doc1', 'active', new Date(Date.now() - 1000).toISOString());
    await book('doc1', 'pat1').expect(403);
    await subscribe('doc1', 'active', null);
    await subscribe('doc2', 'active', null);
    await subscribe('pat1', 'active', null);
  });

  it('books only for an existing patient, with validated fields', async () => {
    const res = await book('doc1', 'pat2').expect(201);
    expect(res.body).toEqual({
      success: true,
      appointment: expect.objectContaining({
        doctor_id: ids.doc1,
        patient_id: ids.pat2,
        scheduled_at: '2026-12-01T09:30:00.000Z',
        status: 'scheduled',
      }),
    });
    await book('doc2', 'pat2').expect(201);
    const notPatient = await request(t.url)
      .post('/api/appointments')
      .set(h.bearer(tokens.doc1))
      .send({ patient_id: ids.doc2, scheduled_at: '2026-12-01T09:30:00Z', reason: 'x' })
      .expect(404);
    expect(notPatient.body.code).toBe('NOT_FOUND');
    const bad = await request(t.url)
      .post('/api/appointments')
      .set(h.bearer(tokens.doc1))
      .send({ patient_id: 'x', scheduled_at: 'soon' })
      .expect(400);
    expect(bad.body.error).toMatch(/patient_id/);
    expect(bad.body.error).toMatch(/scheduled_at/);
    expect(bad.body.error).toMatch(/reason/);
    await request(t.url)
      .post('/api/appointments')
      .set(h.bearer(tokens.pat1))
      .send({ patient_id: ids.pat1, scheduled_at: '2026-12-01T09:30:00Z', reason: 'x' })
      .expect(403);
  });

  it('shows doctors and patients only their own appointments, admins all; anything else is 404', async () => {
    const list = async (who: string) =>
      (await request(t.url).get('/api/appointments').set(h.bearer(tokens[who])).expect(200)).body.appointments as {
        id: string;
        doctor_id: string;
        patient_id: string;
      }[];
    const doc1 = await list('doc1');
    const doc2 = await list('doc2');
    const pat1 = await list('pat1');
    const pat2 = await list('pat2');
    expect(doc1.every((a) => a.doctor_id === ids.doc1)).toBe(true);
    expect(doc1).toHaveLength(2);
    expect(doc2).toHaveLength(1);
    expect(pat1.every((a) => a.patient_id === ids.pat1)).toBe(true);
    expect(pat1).toHaveLength(1);
    expect(pat2).toHaveLength(2);
    const all = (await request(t.url).get('/api/appointments').set(h.bearer(admin)).expect(200)).body.appointments;
    expect(all).toHaveLength(3);

    const doc2Only = doc2[0].id;
    await request(t.url).get(`/api/appointments/${doc2Only}`).set(h.bearer(tokens.doc2)).expect(200);
    await request(t.url).get(`/api/appointments/${doc2Only}`).set(h.bearer(tokens.pat2)).expect(200);
    await request(t.url).get(`/api/appointments/${doc2Only}`).set(h.bearer(admin)).expect(200);
    const hidden = await request(t.url).get(`/api/appointments/${doc2Only}`).set(h.bearer(tokens.doc1)).expect(404);
    expect(hidden.body).toEqual({ success: false, error: 'Appointment not found', code: 'NOT_FOUND' });
    await request(t.url).get(`/api/appointments/${doc2Only}`).set(h.bearer(tokens.pat1)).expect(404);
    await request(t.url).get('/api/appointments/not-a-uuid').set(h.bearer(tokens.doc1)).expect(404);
  });

  it("lists a doctor's patients: those they have appointments with", async () => {
    const mine = (await request(t.url).get('/api/patients').set(h.bearer(tokens.doc1)).expect(200)).body.patients;
    expect(mine.map((p: { id: string }) => p.id).sort()).toEqual([ids.pat1, ids.pat2].sort());
    const theirs = (await request(t.url).get('/api/patients').set(h.bearer(tokens.doc2)).expect(200)).body.patients;
    expect(theirs.map((p: { id: string }) => p.id)).toEqual([ids.pat2]);
    await request(t.url).get('/api/patients').set(h.bearer(tokens.pat1)).expect(403);
  });

  it('answers without credentials with 401 in the clinical dialect', async () => {
    const res = await request(t.url).get('/api/appointments').expect(401);
    expect(res.body).toEqual({ success: false, error: 'Authentication required', code: 'UNAUTHENTICATED' });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });
});
