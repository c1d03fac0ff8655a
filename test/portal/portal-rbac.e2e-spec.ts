import request from 'supertest';
import { api, PASSWORD } from '../support/api';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestApp, TestApp } from '../support/harness';

const ROLES = ['admin', 'researcher', 'coordinator', 'viewer', 'doctor', 'patient', 'caregiver'] as const;
type Role = (typeof ROLES)[number];

describe('portal: roles, studies, admin user routes, registration, API keys, audit', () => {
  let t: TestApp;
  let h: ReturnType<typeof api>;
  let admin: string;
  const tokens = {} as Record<Role, string>;
  const ids = {} as Record<Role, string>;

  beforeAll(async () => {
    t = await startTestApp();
    h = api(t);
    admin = await h.adminToken();
    for (const role of ROLES) {
      if (role === 'admin') {
        tokens.admin = admin;
        continue;
      }
      const u = await h.createUser(`${role}@test.example.org`, role, PASSWORD, admin);
      ids[role] = u.id;
      tokens[role] = (await h.login(`${role}@test.example.org`, PASSWORD)).access_token;
    }
    const [row] = await t.db.query(`SELECT id FROM users WHERE email = $1`, [ADMIN_EMAIL]);
    ids.admin = row.id;
  });
  afterAll(() => t.close());

  describe('the RBAC matrix: every role against every protected route', () => {
    const portal: Role[] = ['admin', 'researcher', 'coordinator', 'viewer'];
    let studyId: string;

    beforeAll(async () => {
      const res = await request(t.url)
        .post('/api/studies')
        .set(h.bearer(admin))
        .send({ name: 'Matrix study', description: 'x' })
        .expect(201);
      studyId = res.body.id;
    });

    const routes: { name: string; allowed: (r: Role) => boolean; call: (token: string) => request.Test }[] = [
      {
        name: 'GET /api/studies',
        allowed: (r) => portal.includes(r),
        call: (tk) => request(t.url).get('/api/studies').set(h.bearer(tk)),
      },
      {
        name: 'GET /api/studies/:id',
        allowed: (r) => portal.includes(r),
        call: (tk) => request(t.url).get(`/api/studies/${studyId}`).set(h.bearer(tk)),
      },
      {
        name: 'POST /api/studies',
        allowed: (r) => r === 'admin',
        call: (tk) => request(t.url).post('/api/studies').set(h.bearer(tk)).send({ name: 'New', description: '' }),
      },
      {
        name: 'GET /api/users',
        allowed: (r) => r === 'admin',
        call: (tk) => request(t.url).get('/api/users').set(h.bearer(tk)),
      },
      {
        name: 'PATCH /api/users/:id/subscription',
        allowed: (r) => r === 'admin',
        call: (tk) =>
          request(t.url).patch(`/api/users/${ids.doctor}/subscription`).set(h.bearer(tk)).send({ status: 'none' }),
      },
      {
        name: 'PATCH /api/users/:id (enable)',
        allowed: (r) => r === 'admin',
        call: (tk) => request(t.url).patch(`/api/users/${ids.caregiver}`).set(h.bearer(tk)).send({ is_active: true }),
      },
      {
        name: 'PATCH /api/users/:id/role (same role)',
        allowed: (r) => r === 'admin',
        call: (tk) =>
          request(t.url).patch(`/api/users/${ids.caregiver}/role`).set(h.bearer(tk)).send({ role: 'caregiver' }),
      },
      {
        name: 'GET /api/audit',
        allowed: (r) => r === 'admin',
        call: (tk) => request(t.url).get('/api/audit').set(h.bearer(tk)),
      },
      {
        name: 'GET /api/health/detailed',
        allowed: (r) => r === 'admin',
        call: (tk) => request(t.url).get('/api/health/detailed').set(h.bearer(tk)),
      },
      {
        name: 'POST /api/auth/register (patient)',
        allowed: (r) => r === 'admin' || r === 'coordinator',
        call: (tk) =>
          request(t.url)
            .post('/api/auth/register')
            .set(h.bearer(tk))
            .send({ email: `p-${Math.random().toString(36).slice(2)}@test.example.org`, role: 'patient' }),
      },
    ];

    for (const route of routes) {
      for (const role of ROLES) {
        const expected = route.allowed(role) ? 'allowed' : 'forbidden (403)';
        it(`${route.name} as ${role}: ${expected}`, async () => {
          const res = await route.call(tokens[role]);
          if (route.allowed(role)) {
            expect(res.status).toBeLessThan(300);
          } else {
            expect(res.status).toBe(403);
            expect(res.body).toEqual({ error: { code: 'FORBIDDEN', message: expect.any(String) } });
          }
        });
      }
      it(`${route.name} without credentials: 401`, async () => {
        const res = await route.call('');
        expect(res.status).toBe(401);
      });
    }
  });

  describe('studies', () => {
    it('creates a study (201) and reads it back; unknown or malformed ids are 404', async () => {
      const created = await request(t.url)
        .post('/api/studies')
        .set(h.bearer(admin))
        .send({ name: ' Sleep ', description: 'REM' })
        .expect(201);
      expect(created.body).toMatchObject({ name: 'Sleep', description: 'REM', created_by: ids.admin });
      const got = await request(t.url).get(`/api/studies/${created.body.id}`).set(h.bearer(tokens.viewer)).expect(200);
      expect(got.body).toEqual(created.body);
      await request(t.url)
        .get('/api/studies/00000000-0000-4000-8000-000000000000')
        .set(h.bearer(tokens.viewer))
        .expect(404);
      await request(t.url).get('/api/studies/nope').set(h.bearer(tokens.viewer)).expect(404);
      const list = await request(t.url).get('/api/studies').set(h.bearer(tokens.researcher)).expect(200);
      expect(list.body.map((s: { id: string }) => s.id)).toContain(created.body.id);
    });

    it('validates the body and drops unknown fields', async () => {
      const bad = await request(t.url)
        .post('/api/studies')
        .set(h.bearer(admin))
        .send({ description: 'no name' })
        .expect(400);
      expect(bad.body.error.details).toHaveProperty('name');
      const res = await request(t.url)
        .post('/api/studies')
        .set(h.bearer(admin))
        .send({ name: 'Extra', created_by: 'evil', id: 'x' })
        .expect(201);
      expect(res.body.created_by).toBe(ids.admin);
      expect(res.body.id).not.toBe('x');
    });
  });

  describe('admin user routes', () => {
    it('lists users with pagination and a role filter', async () => {
      const page = await request(t.url).get('/api/users?page=1&limit=3').set(h.bearer(admin)).expect(200);
      expect(page.body.items).toHaveLength(3);
      expect(page.body.total).toBeGreaterThanOrEqual(7);
      expect(page.body).toMatchObject({ page: 1, limit: 3 });
      const page2 = await request(t.url).get('/api/users?page=2&limit=3').set(h.bearer(admin)).expect(200);
      expect(page2.body.items[0].id).not.toBe(page.body.items[0].id);
      const viewers = await request(t.url).get('/api/users?role=viewer').set(h.bearer(admin)).expect(200);
      expect(viewers.body.items.every((u: { role: string }) => u.role === 'viewer')).toBe(true);
      expect(page.body.items[0]).not.toHaveProperty('password_hash');
      await request(t.url).get('/api/users?role=king').set(h.bearer(admin)).expect(400);
      await request(t.url).get('/api/users?limit=1000').set(h.bearer(admin)).expect(400);
      await request(t.url).get('/api/users?page=abc').set(h.bearer(admin)).expect(400);
    });

    it("changes a role and revokes that user's sessions at once", async () => {
      const u = await h.createUser('promote@test.example.org', 'viewer', PASSWORD, admin);
      const s = await h.login('promote@test.example.org', PASSWORD);
      const res = await request(t.url)
        .patch(`/api/users/${u.id}/role`)
        .set(h.bearer(admin))
        .send({ role: 'researcher' })
        .expect(200);
      expect(res.body.role).toBe('researcher');
      await request(t.url).get('/api/auth/me').set(h.bearer(s.access_token)).expect(401);
      const again = await h.login('promote@test.example.org', PASSWORD);
      expect(again.user.role).toBe('researcher');
      await request(t.url).patch(`/api/users/${u.id}/role`).set(h.bearer(admin)).send({ role: 'emperor' }).expect(400);
      await request(t.url)
        .patch('/api/users/00000000-0000-4000-8000-000000000000/role')
        .set(h.bearer(admin))
        .send({ role: 'viewer' })
        .expect(404);
    });

    it('disables a user: sessions end at once, login is 403, and enabling restores login', async () => {
      const u = await h.createUser('disable-me@test.example.org', 'viewer', PASSWORD, admin);
      const s = await h.login('disable-me@test.example.org', PASSWORD);
      const res = await request(t.url)
        .patch(`/api/users/${u.id}`)
        .set(h.bearer(admin))
        .send({ is_active: false })
        .expect(200);
      expect(res.body.is_active).toBe(false);
      await request(t.url).get('/api/auth/me').set(h.bearer(s.access_token)).expect(401);
      await request(t.url).post('/api/auth/refresh').send({ refresh_token: s.refresh_token }).expect(401);
      await request(t.url)
        .post('/api/auth/login')
        .send({ username: 'disable-me@test.example.org', password: PASSWORD })
        .expect(403);
      await request(t.url).patch(`/api/users/${u.id}`).set(h.bearer(admin)).send({ is_active: true }).expect(200);
      await h.login('disable-me@test.example.org', PASSWORD);
      await request(t.url)
        .patch(`/api/users/${u.id}`)
        .set(h.bearer(admin))
        .send({ is_active: 'sometimes' })
        .expect(400);
    });

    it('sets a subscription with an end date', async () => {
      const ends = new Date(Date.now() + 30 * 86400_000).toISOString();
      const res = await request(t.url)
        .patch(`/api/users/${ids.doctor}/subscription`)
        .set(h.bearer(admin))
        .send({ status: 'active', ends_at: ends })
        .expect(200);
      expect(res.body).toMatchObject({ subscription_status: 'active', subscription_ends_at: ends });
      await request(t.url)
        .patch(`/api/users/${ids.doctor}/subscription`)
        .set(h.bearer(admin))
        .send({ status: 'gold' })
        .expect(400);
      await request(t.url)
        .patch(`/api/users/${ids.doctor}/subscription`)
        .set(h.bearer(admin))
        .send({ status: 'active', ends_at: 'tomorrow' })
        .expect(400);
    });

    it('refuses to demote or disable the last active admin (409)', async () => {
      const demote = await request(t.url)
        .patch(`/api/users/${ids.admin}/role`)
        .set(h.bearer(admin))
        .send({ role: 'viewer' })
        .expect(409);
      expect(demote.body.error.code).toBe('CONFLICT');
      await request(t.url).patch(`/api/users/${ids.admin}`).set(h.bearer(admin)).send({ is_active: false }).expect(409);
      await request(t.url).get('/api/auth/me').set(h.bearer(admin)).expect(200);
    });

    it('lets exactly one of two admins demoting each other at once succeed', async () => {
      const second = await h.createUser('second-admin@test.example.org', 'admin', PASSWORD, admin);
      const secondToken = (await h.login('second-admin@test.example.org', PASSWORD)).access_token;
      const [a, b] = await Promise.all([
        request(t.url).patch(`/api/users/${second.id}/role`).set(h.bearer(admin)).send({ role: 'viewer' }),
        request(t.url).patch(`/api/users/${ids.admin}/role`).set(h.bearer(secondToken)).send({ role: 'viewer' }),
      ]);
      const statuses = [a.status, b.status].sort();
      // Either one demotion wins and the other is refused (409, or 401 because the loser's session was just revoked).
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND is_active`);
      expect(n).toBe(1);
      // Put the original admin back in charge for the tests that follow.
      if (a.status !== 200) {
        await t.db.query(`UPDATE users SET role = 'admin' WHERE email = $1`, [ADMIN_EMAIL]);
      }
      admin = (await h.login(ADMIN_EMAIL, ADMIN_PASSWORD)).access_token;
    });
  });

  describe('POST /api/auth/register', () => {
    it('lets an admin create any role, with the password policy applied', async () => {
      const res = await request(t.url)
        .post('/api/auth/register')
        .set(h.bearer(admin))
        .send({
          email: 'New.Researcher@Test.Example.org ',
          password: PASSWORD,
          role: 'researcher',
          first_name: 'New',
          is_active: false,
        })
        .expect(201);
      expect(res.body).toMatchObject({
        email: 'new.researcher@test.example.org',
        role: 'researcher',
        first_name: 'New',
        is_active: true,
      });
      const weak = await request(t.url)
        .post('/api/auth/register')
        .set(h.bearer(admin))
        .send({ email: 'weak@test.example.org', password: 'password1', role: 'viewer' })
        .expect(400);
      expect(weak.body.error.code).toBe('VALIDATION_ERROR');
      expect(weak.body.error.details.password).toMatch(/upper-case/);
      const common = await request(t.url)
        .post('/api/auth/register')
        .set(h.bearer(admin))
        .send({ email: 'common@test.example.org', password: 'Password123', role: 'viewer' })
        .expect(400);
      expect(common.body.error.details.password).toMatch(/too common/);
    });

    it('answers a duplicate email (any case) with 409', async () => {
      const res = await request(t.url)
        .post('/api/auth/register')
        .set(h.bearer(admin))
        .send({ email: 'VIEWER@test.example.org', password: PASSWORD, role: 'viewer' })
        .expect(409);
      expect(res.body.error.code).toBe('CONFLICT');
    });

    it('requires a password except for patients and caregivers', async () => {
      const res = await request(t.url)
        .post('/api/auth/register')
        .set(h.bearer(admin))
        .send({ email: 'nopw@test.example.org', role: 'viewer' })
        .expect(400);
      expect(res.body.error.details).toHaveProperty('password');
      await request(t.url)
        .post('/api/auth/register')
        .set(h.bearer(admin))
        .send({ email: 'care@test.example.org', role: 'caregiver' })
        .expect(201);
      const [row] = await t.db.query(`SELECT password_hash FROM users WHERE email = 'care@test.example.org'`);
      expect(row.password_hash).toBeNull();
      await request(t.url)
        .post('/api/auth/login')
        .send({ username: 'care@test.example.org', password: 'anything' })
        .expect(401);
    });

    it('lets a coordinator create patients and caregivers only', async () => {
      await request(t.url)
        .post('/api/auth/register')
        .set(h.bearer(tokens.coordinator))
        .send({ email: 'patient-by-coord@test.example.org', role: 'patient' })
        .expect(201);
      const res = await request(t.url)
        .post('/api/auth/register')
        .set(h.bearer(tokens.coordinator))
        .send({ email: 'researcher-by-coord@test.example.org', role: 'researcher', password: PASSWORD })
        .expect(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
    });

    it('validates every field', async () => {
      const res = await request(t.url)
        .post('/api/auth/register')
        .set(h.bearer(admin))
        .send({ email: 'not-an-email', role: 'wizard', username: 'a b' })
        .expect(400);
      expect(Object.keys(res.body.error.details).sort()).toEqual(['email', 'role', 'username']);
    });
  });

  describe('API keys', () => {
    it("creates a key shown once, lists it by prefix, and the key acts with its owner's current role", async () => {
      const u = await h.createUser('keyowner@test.example.org', 'researcher', PASSWORD, admin);
      const owner = (await h.login('keyowner@test.example.org', PASSWORD)).access_token;
      const created = await request(t.url)
        .post('/api/api-keys')
        .set(h.bearer(owner))
        .send({ name: 'export' })
        .expect(201);
      expect(created.body).toEqual({
        id: expect.any(String),
        name: 'export',
        key: expect.stringMatching(/^pk_[A-Za-z0-9_-]{43}$/),
        prefix: created.body.key.slice(0, 11),
        created_at: expect.any(String),
        expires_at: null,
      });
      const list = await request(t.url).get('/api/api-keys').set(h.bearer(owner)).expect(200);
      expect(list.body).toHaveLength(1);
      expect(list.body[0]).not.toHaveProperty('key');
      expect(list.body[0].prefix).toBe(created.body.prefix);
      const [row] = await t.db.query(`SELECT key_hash FROM api_keys WHERE id = $1`, [created.body.id]);
      expect(row.key_hash).not.toContain(created.body.key);

      const key = { 'X-API-Key': created.body.key };
      const me = await request(t.url).get('/api/auth/me').set(key).expect(200);
      expect(me.body).toMatchObject({ id: u.id, role: 'researcher' });
      await request(t.url).get('/api/studies').set(key).expect(200);
      await request(t.url).get('/api/users').set(key).expect(403);
      await request(t.url).patch(`/api/users/${u.id}/role`).set(h.bearer(admin)).send({ role: 'patient' }).expect(200);
      await request(t.url).get('/api/studies').set(key).expect(403);
      await request(t.url)
        .patch(`/api/users/${u.id}/role`)
        .set(h.bearer(admin))
        .send({ role: 'researcher' })
        .expect(200);
      await request(t.url).get('/api/studies').set(key).expect(200);
    });

    it("refuses a deleted key at once, and answers 404 for another user's key", async () => {
      const owner = (await h.login('keyowner@test.example.org', PASSWORD)).access_token;
      const created = await request(t.url)
        .post('/api/api-keys')
        .set(h.bearer(owner))
        .send({ name: 'temp' })
        .expect(201);
      const key = { 'X-API-Key': created.body.key };
      await request(t.url).get('/api/auth/me').set(key).expect(200);
      await request(t.url).delete(`/api/api-keys/${created.body.id}`).set(h.bearer(tokens.viewer)).expect(404);
      await request(t.url).get('/api/auth/me').set(key).expect(200);
      await request(t.url).delete(`/api/api-keys/${created.body.id}`).set(h.bearer(owner)).expect(204);
      const refused = await request(t.url).get('/api/auth/me').set(key).expect(401);
      expect(refused.body.error.code).toBe('INVALID_TOKEN');
      await request(t.url).delete(`/api/api-keys/${created.body.id}`).set(h.bearer(owner)).expect(404);
      await request(t.url).delete('/api/api-keys/not-a-uuid').set(h.bearer(owner)).expect(404);
    });

    it('refuses an expired key, a made-up key and the key of a disabled user', async () => {
      const u = await h.createUser('keyexpiry@test.example.org', 'viewer', PASSWORD, admin);
      const owner = (await h.login('keyexpiry@test.example.org', PASSWORD)).access_token;
      const created = await request(t.url)
        .post('/api/api-keys')
        .set(h.bearer(owner))
        .send({ name: 'short', expires_in_days: 1 })
        .expect(201);
      expect(new Date(created.body.expires_at).getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
      await request(t.url).get('/api/auth/me').set('X-API-Key', created.body.key).expect(200);
      await t.db.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [created.body.id]);
      await new Promise((r) => setTimeout(r, 1100)); // the verified-key cache lives one second
      await request(t.url).get('/api/auth/me').set('X-API-Key', created.body.key).expect(401);
      await request(t.url).get('/api/auth/me').set('X-API-Key', 'pk_madeup').expect(401);
      await request(t.url).get('/api/auth/me').set('X-API-Key', '').expect(401);
      const other = await request(t.url).post('/api/api-keys').set(h.bearer(owner)).send({ name: 'live' }).expect(201);
      await request(t.url).get('/api/auth/me').set('X-API-Key', other.body.key).expect(200);
      await request(t.url).patch(`/api/users/${u.id}`).set(h.bearer(admin)).send({ is_active: false }).expect(200);
      await request(t.url).get('/api/auth/me').set('X-API-Key', other.body.key).expect(401);
    });

    it('validates the body', async () => {
      const owner = (await h.login('keyowner@test.example.org', PASSWORD)).access_token;
      const res = await request(t.url)
        .post('/api/api-keys')
        .set(h.bearer(owner))
        .send({ name: '', expires_in_days: 0 })
        .expect(400);
      expect(Object.keys(res.body.error.details).sort()).toEqual(['expires_in_days', 'name']);
      await request(t.url)
        .post('/api/api-keys')
        .set(h.bearer(owner))
        .send({ name: 'x', expires_in_days: '5' })
        .expect(400);
    });
  });

  describe('GET /api/audit', () => {
    it('records logins, failures, role changes and key events, newest first, with filters', async () => {
      await request(t.url)
        .post('/api/auth/login')
        .send({ username: ADMIN_EMAIL, password: 'Wrong-Pass-123' })
        .expect(401);
      const all = await request(t.url).get('/api/audit?limit=100').set(h.bearer(admin)).expect(200);
      const events = new Set(all.body.items.map((e: { event: string }) => e.event));
      for (const e of [
        'login_success',
        'login_failure',
        'role_changed',
        'user_disabled',
        'api_key_created',
        'api_key_revoked',
        'user_registered',
      ]) {
        expect(events).toContain(e);
      }
      expect(all.body.items[0].event).toBe('login_failure');
      const failures = await request(t.url).get('/api/audit?event=login_failure').set(h.bearer(admin)).expect(200);
      expect(failures.body.items.every((e: { event: string }) => e.event === 'login_failure')).toBe(true);
      const mine = await request(t.url).get(`/api/audit?user_id=${ids.admin}`).set(h.bearer(admin)).expect(200);
      expect(mine.body.total).toBeGreaterThan(0);
      expect(JSON.stringify(all.body)).not.toContain(PASSWORD);
      expect(JSON.stringify(all.body)).not.toContain(ADMIN_PASSWORD);
      await request(t.url).get('/api/audit?user_id=nope').set(h.bearer(admin)).expect(400);
    });
  });
});
