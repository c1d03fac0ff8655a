import { Secret, TOTP } from 'otpauth';
import request from 'supertest';
import { api, PASSWORD } from '../support/api';
import { ADMIN_EMAIL, startTestApp, TestApp } from '../support/harness';

/**
 * The admin routes added for the admin console (API.md 9): users found by part of their email
 * address, one user with the state of their second factors, and a user's live sessions, listed and
 * ended. Each over HTTP, with its success and its errors.
 */
describe('admin routes added for the admin console', () => {
  let t: TestApp;
  let a: ReturnType<typeof api>;
  let admin: string;
  let viewer: string;
  let n = 0;

  beforeAll(async () => {
    t = await startTestApp();
    a = api(t);
    admin = await a.adminToken();
    await a.createUser('watcher@console.example.org', 'viewer', PASSWORD, admin);
    viewer = (await a.login('watcher@console.example.org', PASSWORD)).access_token;
  });
  afterAll(() => t.close());

  const get = (path: string, token = admin) => request(t.url).get(path).set(a.bearer(token));
  const del = (path: string, token = admin) => request(t.url).delete(path).set(a.bearer(token));
  const newUser = async (email: string, role = 'researcher') => a.createUser(email, role, PASSWORD, admin);

  describe('GET /api/users?email=', () => {
    beforeAll(async () => {
      await newUser('Ada.Lovelace@analytical.example.org', 'researcher');
      await newUser('ada_b@analytical.example.org', 'coordinator');
      await newUser('grace@compiler.example.org', 'researcher');
    });

    it('finds users whose email address contains the text, ignoring case, with the role filter and pages', async () => {
      const found = await get('/api/users?email=ANALYTICAL').expect(200);
      expect(found.body.total).toBe(2);
      expect(found.body.items.map((u: { email: string }) => u.email).sort()).toEqual([
        'ada.lovelace@analytical.example.org',
        'ada_b@analytical.example.org',
      ]);
      const researchers = await get('/api/users?email=analytical&role=researcher').expect(200);
      expect(researchers.body.items.map((u: { email: string }) => u.email)).toEqual([
        'ada.lovelace@analytical.example.org',
      ]);
      const second = await get('/api/users?email=analytical&limit=1&page=2').expect(200);
      expect(second.body).toMatchObject({ total: 2, page: 2, limit: 1 });
      expect(second.body.items).toHaveLength(1);
      // Surrounding white space is not part of what is searched for.
      expect((await get('/api/users?email=%20grace%40compiler%20').expect(200)).body.total).toBe(1);
    });

    it('takes % and _ as the characters themselves, not as patterns', async () => {
      const underscore = await get('/api/users?email=ada_').expect(200);
      expect(underscore.body.items.map((u: { email: string }) => u.email)).toEqual(['ada_b@analytical.example.org']);
      expect((await get('/api/users?email=%25').expect(200)).body.total).toBe(0);
      expect((await get(`/api/users?email=${encodeURIComponent('\\')}`).expect(200)).body.total).toBe(0);
    });

    it('an empty email filter lists everybody; one longer than an address can be is 400 VALIDATION_ERROR', async () => {
      const all = await get('/api/users?email=').expect(200);
      const none = await get('/api/users').expect(200);
      expect(all.body.total).toBe(none.body.total);
      const long = await get(`/api/users?email=${'a'.repeat(255)}`).expect(400);
      expect(long.body.error.code).toBe('VALIDATION_ERROR');
      expect(long.body.error.details).toHaveProperty('email');
    });

    it('is for admins only: 403 FORBIDDEN for a viewer, 401 without credentials', async () => {
      expect((await get('/api/users?email=ada', viewer).expect(403)).body.error.code).toBe('FORBIDDEN');
      await request(t.url).get('/api/users?email=ada').expect(401);
    });
  });

  describe('GET /api/users/:id', () => {
    it('shows the user with MFA off, and with MFA on the factors (never a secret) and the recovery codes left', async () => {
      const u = await newUser(`detail${++n}@console.example.org`);
      const off = await get(`/api/users/${u.id}`).expect(200);
      expect(off.body).toMatchObject({ id: u.id, email: u.email, role: 'researcher', is_active: true });
      expect(off.body.mfa).toEqual({ enabled: false, factors: [], recovery_codes_left: 0 });
      expect(off.body).not.toHaveProperty('password_hash');

      const token = (await a.login(u.email, PASSWORD)).access_token;
      const enrol = await request(t.url)
        .post('/api/auth/mfa/totp')
        .set(a.bearer(token))
        .send({ name: 'Phone' })
        .expect(201);
      const totp = new TOTP({ secret: Secret.fromBase32(enrol.body.secret), digits: 6, period: 30 });
      await request(t.url)
        .post(`/api/auth/mfa/factors/${enrol.body.factor_id}/confirm`)
        .set(a.bearer(token))
        .send({ code: totp.generate() })
        .expect(200);
      const on = await get(`/api/users/${u.id}`).expect(200);
      expect(on.body.mfa).toMatchObject({
        enabled: true,
        factors: [{ id: enrol.body.factor_id, type: 'totp', name: 'Phone' }],
        recovery_codes_left: 10,
      });
      expect(JSON.stringify(on.body)).not.toContain(enrol.body.secret);
    });

    it('is 404 NOT_FOUND for an unknown or malformed id, 403 for a viewer, 401 without credentials', async () => {
      const u = await newUser(`detail${++n}@console.example.org`);
      const unknown = await get('/api/users/00000000-0000-4000-8000-000000000000').expect(404);
      expect(unknown.body.error.code).toBe('NOT_FOUND');
      expect((await get('/api/users/not-a-uuid').expect(404)).body.error.code).toBe('NOT_FOUND');
      expect((await get(`/api/users/${u.id}`, viewer).expect(403)).body.error.code).toBe('FORBIDDEN');
      await request(t.url).get(`/api/users/${u.id}`).expect(401);
    });
  });

  describe("a user's sessions: GET and DELETE /api/users/:id/sessions[/:sessionId]", () => {
    it('lists the live sessions of the user, newest first, none marked as the current one', async () => {
      const u = await newUser(`sessions${++n}@console.example.org`);
      await a.login(u.email, PASSWORD);
      await a.login(u.email, PASSWORD, { remember: true });
      const list = await get(`/api/users/${u.id}/sessions`).expect(200);
      expect(list.body).toHaveLength(2);
      expect(list.body[0]).toMatchObject({ method: 'password', remember: true, current: false });
      expect(list.body[1]).toMatchObject({ method: 'password', remember: false, current: false });
      expect(new Date(list.body[0].created_at) >= new Date(list.body[1].created_at)).toBe(true);
    });

    it('ends one session: its token is refused at once, the other still works, and the trail names the admin', async () => {
      const u = await newUser(`sessions${++n}@console.example.org`);
      const first = (await a.login(u.email, PASSWORD)).access_token;
      const second = (await a.login(u.email, PASSWORD)).access_token;
      await get('/api/auth/me', first).expect(200);
      const [newest] = (await get(`/api/users/${u.id}/sessions`).expect(200)).body as { id: string }[];
      await del(`/api/users/${u.id}/sessions/${newest.id}`).expect(204);
      expect((await get('/api/auth/me', second).expect(401)).body.error.code).toBe('INVALID_TOKEN');
      await get('/api/auth/me', first).expect(200);
      expect((await get(`/api/users/${u.id}/sessions`).expect(200)).body).toHaveLength(1);
      const trail = await get(`/api/audit?event=session_revoked&user_id=${u.id}`).expect(200);
      const [adminRow] = await t.db.query(`SELECT id FROM users WHERE email = $1`, [ADMIN_EMAIL]);
      expect(trail.body.items[0]).toMatchObject({
        user_id: u.id,
        actor_id: adminRow.id,
        details: { session_id: newest.id },
      });
      // Ended already: 404, and nothing else changes.
      expect((await del(`/api/users/${u.id}/sessions/${newest.id}`).expect(404)).body.error.code).toBe('NOT_FOUND');
      await get('/api/auth/me', first).expect(200);
    });

    it("is 404 for another user's session, an unknown session or user, and a malformed id, and changes nothing", async () => {
      const u = await newUser(`sessions${++n}@console.example.org`);
      const other = await newUser(`sessions${++n}@console.example.org`);
      const token = (await a.login(other.email, PASSWORD)).access_token;
      const [theirs] = (await get(`/api/users/${other.id}/sessions`).expect(200)).body as { id: string }[];
      await del(`/api/users/${u.id}/sessions/${theirs.id}`).expect(404);
      await del(`/api/users/${u.id}/sessions/00000000-0000-4000-8000-000000000000`).expect(404);
      await del(`/api/users/${u.id}/sessions/nope`).expect(404);
      await del(`/api/users/00000000-0000-4000-8000-000000000000/sessions/${theirs.id}`).expect(404);
      await get('/api/users/00000000-0000-4000-8000-000000000000/sessions').expect(404);
      await get('/api/auth/me', token).expect(200);
    });

    it('ends every session of the user at once: every token is refused, and the trail counts them', async () => {
      const u = await newUser(`sessions${++n}@console.example.org`);
      const tokens = [(await a.login(u.email, PASSWORD)).access_token, (await a.login(u.email, PASSWORD)).access_token];
      await del(`/api/users/${u.id}/sessions`).expect(204);
      for (const tk of tokens) await get('/api/auth/me', tk).expect(401);
      expect((await get(`/api/users/${u.id}/sessions`).expect(200)).body).toEqual([]);
      const trail = await get(`/api/audit?event=session_revoked&user_id=${u.id}`).expect(200);
      expect(trail.body.items[0].details).toEqual({ sessions: 2 });
      // The user signs in again as before.
      await a.login(u.email, PASSWORD);
      await del('/api/users/00000000-0000-4000-8000-000000000000/sessions').expect(404);
    });

    it('is for admins only: a viewer gets 403 and ends nothing, no credentials 401', async () => {
      const u = await newUser(`sessions${++n}@console.example.org`);
      const token = (await a.login(u.email, PASSWORD)).access_token;
      const [s] = (await get(`/api/users/${u.id}/sessions`).expect(200)).body as { id: string }[];
      await get(`/api/users/${u.id}/sessions`, viewer).expect(403);
      await del(`/api/users/${u.id}/sessions/${s.id}`, viewer).expect(403);
      await del(`/api/users/${u.id}/sessions`, viewer).expect(403);
      await request(t.url).delete(`/api/users/${u.id}/sessions`).expect(401);
      await get('/api/auth/me', token).expect(200);
    });
  });
});
