import request from 'supertest';
import { api, median, PASSWORD } from '../support/api';
import { startTestApp, TestApp } from '../support/harness';

const tokenFromMail = (text: string): string => {
  const m = /\/auth\?token=([A-Za-z0-9_-]+)/.exec(text);
  if (!m) throw new Error(`no link in mail:\n${text}`);
  return m[1];
};

describe('patient portal: magic links', () => {
  let t: TestApp;
  let h: ReturnType<typeof api>;

  beforeAll(async () => {
    t = await startTestApp({ PORTAL_URL: 'https://portal.test.example.org' });
    h = api(t);
    await h.createUser('patient@test.example.org', 'patient', null);
    await h.createUser('researcher@test.example.org', 'researcher');
  });
  afterAll(() => t.close());

  it('request → mail → verify → GET /api/auth/me, as a patient without a password', async () => {
    const res = await request(t.url)
      .post('/api/auth/magic-link')
      .send({ email: 'patient@test.example.org' })
      .expect(202);
    expect(res.body).toEqual({ message: 'Magic link sent to patient@test.example.org' });
    const mail = await t.smtp.waitFor('patient@test.example.org');
    expect(mail.subject).toBe('Your sign-in link');
    expect(mail.text).toContain('https://portal.test.example.org/auth?token=');
    const token = tokenFromMail(mail.text);
    expect(token).toHaveLength(43);
    const [{ verified }] = await t.db.query(
      `SELECT email_verified AS verified FROM users WHERE email = 'patient@test.example.org'`,
    );
    expect(verified).toBe(false);

    const login = await request(t.url).post('/api/auth/magic-link/verify').send({ token }).expect(200);
    expect(login.body).toEqual({
      access_token: expect.any(String),
      token_type: 'bearer',
      expires_in: 86400,
      refresh_token: expect.any(String),
      user: expect.objectContaining({ email: 'patient@test.example.org', role: 'patient', email_verified: true }),
    });
    const me = await request(t.url).get('/api/auth/me').set(h.bearer(login.body.access_token)).expect(200);
    expect(me.body.role).toBe('patient');
    await request(t.url).post('/api/auth/refresh').send({ refresh_token: login.body.refresh_token }).expect(200);
    const [row] = await t.db.query(`SELECT token_hash FROM magic_links ORDER BY created_at DESC LIMIT 1`);
    expect(row.token_hash).not.toBe(token);
  });

  it('works once: the same token again is 401 INVALID_TOKEN', async () => {
    t.smtp.messages.length = 0;
    await request(t.url).post('/api/auth/magic-link').send({ email: 'patient@test.example.org' }).expect(202);
    const token = tokenFromMail((await t.smtp.waitFor('patient@test.example.org')).text);
    await request(t.url).post('/api/auth/magic-link/verify').send({ token }).expect(200);
    const again = await request(t.url).post('/api/auth/magic-link/verify').send({ token }).expect(401);
    expect(again.body).toEqual({
      error: { code: 'INVALID_TOKEN', message: 'This sign-in link is invalid, expired or already used' },
    });
  });

  it('gives exactly one session to 20 clicks racing on one link', async () => {
    t.smtp.messages.length = 0;
    await request(t.url).post('/api/auth/magic-link').send({ email: 'patient@test.example.org' }).expect(202);
    const token = tokenFromMail((await t.smtp.waitFor('patient@test.example.org')).text);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => request(t.url).post('/api/auth/magic-link/verify').send({ token })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(19);
  });

  it('refuses an expired link, and a failed attempt uses nothing up', async () => {
    t.smtp.messages.length = 0;
    await request(t.url).post('/api/auth/magic-link').send({ email: 'patient@test.example.org' }).expect(202);
    const token = tokenFromMail((await t.smtp.waitFor('patient@test.example.org')).text);
    await request(t.url)
      .post('/api/auth/magic-link/verify')
      .send({ token: token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A') })
      .expect(401);
    await request(t.url).post('/api/auth/magic-link/verify').send({ token: 'short' }).expect(401);
    await t.db.query(`UPDATE magic_links SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`);
    await request(t.url).post('/api/auth/magic-link/verify').send({ token }).expect(401);
    await t.db.query(`UPDATE magic_links SET expires_at = now() + interval '1 minute' WHERE used_at IS NULL`);
    await request(t.url).post('/api/auth/magic-link/verify').send({ token }).expect(200);
  });

  it('keeps an older unexpired link working when a newer one is sent', async () => {
    t.smtp.messages.length = 0;
    await request(t.url).post('/api/auth/magic-link').send({ email: 'patient@test.example.org' }).expect(202);
    const first = tokenFromMail((await t.smtp.waitFor('patient@test.example.org')).text);
    await request(t.url).post('/api/auth/magic-link').send({ email: 'patient@test.example.org' }).expect(202);
    await t.smtp.waitFor('patient@test.example.org', (m) => tokenFromMail(m.text) !== first);
    await request(t.url).post('/api/auth/magic-link/verify').send({ token: first }).expect(200);
  });

  it('answers an unknown or disabled address exactly like a known one, in about the same time, and sends nothing', async () => {
    t.smtp.messages.length = 0;
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 10; i++) {
      let t0 = performance.now();
      const a = await request(t.url)
        .post('/api/auth/magic-link')
        .send({ email: 'patient@test.example.org' })
        .expect(202);
      known.push(performance.now() - t0);
      t0 = performance.now();
      const b = await request(t.url)
        .post('/api/auth/magic-link')
        .send({ email: `ghost${i}@test.example.org` })
        .expect(202);
      unknown.push(performance.now() - t0);
      expect(b.body).toEqual({ message: `Magic link sent to ghost${i}@test.example.org` });
      expect(a.body).toEqual({ message: 'Magic link sent to patient@test.example.org' });
    }
    expect(median(unknown)).toBeLessThan(median(known) * 1.5 + 5);
    await t.smtp.waitFor('patient@test.example.org');
    await new Promise((r) => setTimeout(r, 300));
    expect(t.smtp.messages.filter((m) => m.to.some((a) => a.startsWith('ghost')))).toHaveLength(0);
    const u = await h.createUser('gone@test.example.org', 'patient', null);
    await t.db.query(`UPDATE users SET is_active = false WHERE id = $1`, [u.id]);
    await request(t.url).post('/api/auth/magic-link').send({ email: 'gone@test.example.org' }).expect(202);
    await new Promise((r) => setTimeout(r, 500));
    expect(t.smtp.to('gone@test.example.org')).toHaveLength(0);
  });

  it('validates the request and the verify body', async () => {
    const bad = await request(t.url).post('/api/auth/magic-link').send({ email: 'not-an-address' }).expect(400);
    expect(bad.body.error.details).toHaveProperty('email');
    await request(t.url).post('/api/auth/magic-link').send({}).expect(400);
    await request(t.url).post('/api/auth/magic-link/verify').send({}).expect(400);
    await request(t.url).post('/api/auth/magic-link/verify').send({ token: 12 }).expect(400);
    await request(t.url).get('/api/auth/magic-link/verify?token=abc').expect(404);
  });
});

describe('patient portal: magic-link rate limit', () => {
  it('allows 5 requests per 15 minutes per IP and email, then 429 with Retry-After', async () => {
    const t = await startTestApp({ RATE_LIMIT_MAGIC_LINK: '5/15m' });
    try {
      for (let i = 0; i < 5; i++)
        await request(t.url).post('/api/auth/magic-link').send({ email: 'x@test.example.org' }).expect(202);
      const res = await request(t.url).post('/api/auth/magic-link').send({ email: 'X@test.example.org' }).expect(429);
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.body.error.code).toBe('RATE_LIMIT_EXCEEDED');
      await request(t.url).post('/api/auth/magic-link').send({ email: 'y@test.example.org' }).expect(202);
    } finally {
      await t.close();
    }
  });
});

describe('patient portal: assessment sessions', () => {
  let t: TestApp;
  let h: ReturnType<typeof api>;
  let researcher: string;

  const body = (sessionId: string, trials = 3) => ({
    session_id: sessionId,
    task_summaries: { stroop: { accuracy: 0.93, mean_rt_ms: 612 }, nback: { d_prime: 2.1 } },
    trials: Array.from({ length: trials }, (_, i) => ({ i, rt: 400 + i, correct: i % 2 === 0 })),
  });
  const start = async (token = researcher) =>
    (
      await request(t.url)
        .post('/api/session/start')
        .set(h.bearer(token))
        .send({ participant_id: 'P001', battery_id: 'battery_1' })
        .expect(201)
    ).body;

  beforeAll(async () => {
    t = await startTestApp();
    h = api(t);
    await h.createUser('res@test.example.org', 'researcher');
    researcher = (await h.login('res@test.example.org', PASSWORD)).access_token;
  });
  afterAll(() => t.close());

  it('start → submit → retry → conflicting body', async () => {
    const s = await start();
    expect(s).toEqual({
      session_id: expect.stringMatching(/^sess_[A-Za-z0-9_-]{43}$/),
      participant_id: 'P001',
      battery_id: 'battery_1',
      status: 'active',
      started_at: expect.any(String),
      expires_at: expect.any(String),
    });
    expect(new Date(s.expires_at).getTime() - new Date(s.started_at).getTime()).toBe(4 * 3600_000);
    const first = await request(t.url)
      .post('/api/submit')
      .set('X-Session-ID', s.session_id)
      .send(body(s.session_id))
      .expect(201);
    expect(first.body).toEqual({
      submission_id: expect.any(String),
      session_id: s.session_id,
      received_at: expect.any(String),
      trial_count: 3,
    });
    // A retry after a lost response, with the keys in another order: the same receipt, nothing stored twice.
    const same = body(s.session_id);
    const reordered = {
      trials: same.trials,
      task_summaries: { nback: same.task_summaries.nback, stroop: same.task_summaries.stroop },
      session_id: s.session_id,
    };
    const retry = await request(t.url)
      .post('/api/submit')
      .set('X-Session-ID', s.session_id)
      .send(reordered)
      .expect(200);
    expect(retry.body).toEqual(first.body);
    const conflict = await request(t.url)
      .post('/api/submit')
      .set('X-Session-ID', s.session_id)
      .send(body(s.session_id, 4))
      .expect(409);
    expect(conflict.body.error.code).toBe('CONFLICT');
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM submissions`);
    expect(n).toBe(1);

    const view = await request(t.url).get(`/api/sessions/${s.session_id}`).set(h.bearer(researcher)).expect(200);
    expect(view.body).toMatchObject({
      status: 'submitted',
      submission: { submission_id: first.body.submission_id, trial_count: 3 },
    });
    expect(view.body.submission.trials).toHaveLength(3);
  });

  it('refuses a missing, malformed, unknown or expired session with 401', async () => {
    const s = await start();
    await request(t.url).post('/api/submit').send(body(s.session_id)).expect(401);
    await request(t.url).post('/api/submit').set('X-Session-ID', 'sess_abc123').send(body('sess_abc123')).expect(401);
    const unknown = `sess_${'A'.repeat(43)}`;
    await request(t.url).post('/api/submit').set('X-Session-ID', unknown).send(body(unknown)).expect(401);
    await t.db.query(`UPDATE assessment_sessions SET expires_at = now() - interval '1 second' WHERE status = 'active'`);
    const expired = await request(t.url)
      .post('/api/submit')
      .set('X-Session-ID', s.session_id)
      .send(body(s.session_id))
      .expect(401);
    expect(expired.body.error.code).toBe('TOKEN_EXPIRED');
    const view = await request(t.url).get(`/api/sessions/${s.session_id}`).set(h.bearer(researcher)).expect(200);
    expect(view.body.status).toBe('expired');
  });

  it('answers 400 for a mismatched session_id or wrongly typed fields, storing nothing', async () => {
    const s = await start();
    const other = await start();
    const mismatch = await request(t.url)
      .post('/api/submit')
      .set('X-Session-ID', s.session_id)
      .send(body(other.session_id))
      .expect(400);
    expect(mismatch.body.error.details).toHaveProperty('session_id');
    const r1 = await request(t.url)
      .post('/api/submit')
      .set('X-Session-ID', s.session_id)
      .send({ ...body(s.session_id), task_summaries: [1] })
      .expect(400);
    expect(r1.body.error.details).toHaveProperty('task_summaries');
    const r2 = await request(t.url)
      .post('/api/submit')
      .set('X-Session-ID', s.session_id)
      .send({ ...body(s.session_id), trials: {} })
      .expect(400);
    expect(r2.body.error.details).toHaveProperty('trials');
    await request(t.url)
      .post('/api/submit')
      .set('X-Session-ID', s.session_id)
      .send({ ...body(s.session_id), task_summaries: null })
      .expect(400);
    const [{ n }] = await t.db.query(
      `SELECT count(*)::int AS n FROM submissions WHERE session_id = (SELECT id FROM assessment_sessions WHERE status = 'active' LIMIT 1)`,
    );
    expect(n).toBe(0);
    await request(t.url).post('/api/submit').set('X-Session-ID', s.session_id).send(body(s.session_id)).expect(201);
  });

  it('takes bodies up to 10 MiB on /api/submit and answers 413 beyond', async () => {
    const s = await start();
    const big = {
      ...body(s.session_id),
      trials: Array.from({ length: 40_000 }, (_, i) => ({ i, payload: 'x'.repeat(200) })),
    };
    const size = Buffer.byteLength(JSON.stringify(big));
    expect(size).toBeGreaterThan(5 * 1024 * 1024);
    expect(size).toBeLessThan(10 * 1024 * 1024);
    const ok = await request(t.url).post('/api/submit').set('X-Session-ID', s.session_id).send(big).expect(201);
    expect(ok.body.trial_count).toBe(40_000);
    const s2 = await start();
    const huge = {
      ...body(s2.session_id),
      trials: Array.from({ length: 60_000 }, (_, i) => ({ i, payload: 'x'.repeat(200) })),
    };
    const res = await request(t.url).post('/api/submit').set('X-Session-ID', s2.session_id).send(huge).expect(413);
    expect(res.body).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'Request body is too large' } });
    // Elsewhere the limit stays 1 MiB.
    await request(t.url)
      .post('/api/session/start')
      .set(h.bearer(researcher))
      .send({ participant_id: 'x'.repeat(2 * 1024 * 1024), battery_id: 'b' })
      .expect(413);
  });

  it('stores one submission when 20 copies of it race', async () => {
    const s = await start();
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        request(t.url).post('/api/submit').set('X-Session-ID', s.session_id).send(body(s.session_id)),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((c) => c === 201)).toHaveLength(1);
    expect(statuses.filter((c) => c === 200)).toHaveLength(19);
    expect(new Set(results.map((r) => r.body.submission_id)).size).toBe(1);
    const [{ n }] = await t.db.query(
      `SELECT count(*)::int AS n FROM submissions s JOIN assessment_sessions a ON a.id = s.session_id WHERE s.id = $1`,
      [results[0].body.submission_id],
    );
    expect(n).toBe(1);
  });

  it('lets every role but viewer start a session, and validates the ids', async () => {
    await h.createUser('viewer@test.example.org', 'viewer');
    const viewer = (await h.login('viewer@test.example.org', PASSWORD)).access_token;
    await request(t.url)
      .post('/api/session/start')
      .set(h.bearer(viewer))
      .send({ participant_id: 'P', battery_id: 'B' })
      .expect(403);
    await h.createUser('pat@test.example.org', 'patient');
    await start((await h.login('pat@test.example.org', PASSWORD)).access_token);
    await request(t.url).post('/api/session/start').send({ participant_id: 'P', battery_id: 'B' }).expect(401);
    const bad = await request(t.url)
      .post('/api/session/start')
      .set(h.bearer(researcher))
      .send({ participant_id: '', battery_id: 'b'.repeat(65) })
      .expect(400);
    expect(Object.keys(bad.body.error.details).sort()).toEqual(['battery_id', 'participant_id']);
    await request(t.url)
      .post('/api/session/start')
      .set(h.bearer(researcher))
      .send({ participant_id: 'P\u0000', battery_id: 'B' })
      .expect(400);
    await request(t.url)
      .post('/api/session/start')
      .set(h.bearer(researcher))
      .send({ participant_id: 42, battery_id: 'B' })
      .expect(400);
    await request(t.url)
      .post('/api/session/start')
      .set(h.bearer(researcher))
      .send({ participant_id: 'Proband Ü-7', battery_id: 'B' })
      .expect(201);
  });

  it('shows sessions to researchers, coordinators and admins only; unknown ids are 404', async () => {
    const s = await start();
    const viewer = (await h.login('viewer@test.example.org', PASSWORD)).access_token;
    await request(t.url).get(`/api/sessions/${s.session_id}`).set(h.bearer(viewer)).expect(403);
    await request(t.url)
      .get(`/api/sessions/${s.session_id}`)
      .set(h.bearer(await h.adminToken()))
      .expect(200);
    await request(t.url)
      .get(`/api/sessions/sess_${'B'.repeat(43)}`)
      .set(h.bearer(researcher))
      .expect(404);
    await request(t.url).get('/api/sessions/nonsense').set(h.bearer(researcher)).expect(404);
  });
});
