import request from 'supertest';
import { MagicLinkService } from '../../src/magic-link/magic-link.service';
import { api, median } from '../support/api';
import { ADMIN_EMAIL, startTestApp, TestApp } from '../support/harness';

const tokenFromMail = (text: string): string => {
  const m = /\/auth\?token=([A-Za-z0-9_-]+)/.exec(text);
  if (!m) throw new Error(`no link in mail:\n${text}`);
  return m[1];
};

/**
 * API.md 1.2: magic links are for patients and caregivers. A link to any other role would let whoever
 * reads that mailbox in without the account's password (an admin's mailbox would be an admin account).
 */
describe('magic links sign in patients and caregivers only', () => {
  let t: TestApp;
  let h: ReturnType<typeof api>;
  let admin: string;
  const ask = (email: string) => request(t.url).post('/api/auth/magic-link').send({ email });
  const verify = (token: string) => request(t.url).post('/api/auth/magic-link/verify').send({ token });
  /** Deliveries happen after the answer; this waits for every one started so far. */
  const delivered = () => t.app.get(MagicLinkService).settled();
  const linksOf = async (userId: string) =>
    (await t.db.query(`SELECT used_at FROM magic_links WHERE user_id = $1`, [userId])) as { used_at: Date | null }[];
  const sessionsOf = async (userId: string) =>
    (
      (await t.db.query(`SELECT count(*)::int AS n FROM login_sessions WHERE user_id = $1`, [userId])) as {
        n: number;
      }[]
    )[0].n;
  const linkFor = async (email: string) => {
    t.smtp.messages.length = 0;
    await ask(email).expect(202);
    return tokenFromMail((await t.smtp.waitFor(email)).text);
  };

  beforeAll(async () => {
    t = await startTestApp();
    h = api(t);
    admin = await h.adminToken();
    for (const role of ['researcher', 'coordinator', 'viewer', 'doctor'])
      await h.createUser(`${role}@test.example.org`, role, undefined, admin);
    await h.createUser('patient@test.example.org', 'patient', null, admin);
    await h.createUser('caregiver@test.example.org', 'caregiver', null, admin);
  });
  afterAll(() => t.close());

  it('mails no link to the admin (the attack): the same 202 and body as for a patient, and no link exists', async () => {
    t.smtp.messages.length = 0;
    const res = await ask(ADMIN_EMAIL).expect(202);
    expect(res.body).toEqual({ message: `Magic link sent to ${ADMIN_EMAIL}` });
    await delivered();
    expect(t.smtp.to(ADMIN_EMAIL)).toHaveLength(0);
    const [{ n }] = await t.db.query(
      `SELECT count(*)::int AS n FROM magic_links m JOIN users u ON u.id = m.user_id WHERE u.role = 'admin'`,
    );
    expect(n).toBe(0);
  });

  it('mails no link to a researcher, coordinator, viewer or doctor either', async () => {
    t.smtp.messages.length = 0;
    for (const role of ['researcher', 'coordinator', 'viewer', 'doctor']) {
      const res = await ask(`${role}@test.example.org`).expect(202);
      expect(res.body).toEqual({ message: `Magic link sent to ${role}@test.example.org` });
    }
    await delivered();
    expect(t.smtp.messages).toHaveLength(0);
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM magic_links`);
    expect(n).toBe(0);
  });

  it('signs in a patient and a caregiver with their link, in their role', async () => {
    for (const role of ['patient', 'caregiver']) {
      const login = await verify(await linkFor(`${role}@test.example.org`)).expect(200);
      expect(login.body.user).toMatchObject({ email: `${role}@test.example.org`, role });
      const me = await request(t.url).get('/api/auth/me').set(h.bearer(login.body.access_token)).expect(200);
      expect(me.body.role).toBe(role);
    }
  });

  it('answers an admin address as fast as a patient address (nothing is looked up before the answer)', async () => {
    const patient: number[] = [];
    const other: number[] = [];
    for (let i = 0; i < 10; i++) {
      let t0 = performance.now();
      await ask('patient@test.example.org').expect(202);
      patient.push(performance.now() - t0);
      t0 = performance.now();
      await ask(ADMIN_EMAIL).expect(202);
      other.push(performance.now() - t0);
    }
    await delivered();
    expect(median(other)).toBeLessThan(median(patient) * 1.5 + 5);
    expect(t.smtp.to(ADMIN_EMAIL)).toHaveLength(0);
  });

  it('refuses a link mailed before the patient was made a researcher: 401, nothing used, no session', async () => {
    const u = await h.createUser('promoted@test.example.org', 'patient', null, admin);
    const token = await linkFor('promoted@test.example.org');
    await request(t.url).patch(`/api/users/${u.id}/role`).set(h.bearer(admin)).send({ role: 'researcher' }).expect(200);
    const res = await verify(token).expect(401);
    expect(res.body).toEqual({
      error: { code: 'INVALID_TOKEN', message: 'This sign-in link is invalid, expired or already used' },
    });
    expect(await linksOf(u.id)).toEqual([{ used_at: null }]);
    expect(await sessionsOf(u.id)).toBe(0);
    // Nothing was used up: once a patient again (within the link's 15 minutes), the link is theirs to use.
    await request(t.url).patch(`/api/users/${u.id}/role`).set(h.bearer(admin)).send({ role: 'patient' }).expect(200);
    expect((await verify(token).expect(200)).body.user.role).toBe('patient');
  });

  it('refuses a link mailed before a caregiver was made an admin', async () => {
    const u = await h.createUser('caregiver-admin@test.example.org', 'caregiver', null, admin);
    const token = await linkFor('caregiver-admin@test.example.org');
    await request(t.url).patch(`/api/users/${u.id}/role`).set(h.bearer(admin)).send({ role: 'admin' }).expect(200);
    expect((await verify(token).expect(401)).body.error.code).toBe('INVALID_TOKEN');
    expect(await sessionsOf(u.id)).toBe(0);
  });

  it('refuses a link mailed before the account was disabled: 401, nothing used, no session', async () => {
    const u = await h.createUser('disabled@test.example.org', 'patient', null, admin);
    const token = await linkFor('disabled@test.example.org');
    await request(t.url).patch(`/api/users/${u.id}`).set(h.bearer(admin)).send({ is_active: false }).expect(200);
    expect((await verify(token).expect(401)).body.error.code).toBe('INVALID_TOKEN');
    expect(await linksOf(u.id)).toEqual([{ used_at: null }]);
    expect(await sessionsOf(u.id)).toBe(0);
  });
});
