import { Client } from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { dataSourceOptions, MIGRATIONS } from '../../src/database/data-source-options';
import { ENTITIES } from '../../src/entities';
import { NormalizedEmails1763900600000 } from '../../src/database/migrations/1763900600000-NormalizedEmails';
import { MagicLinkService } from '../../src/magic-link/magic-link.service';
import { EmailVerificationService } from '../../src/users/email-verification.service';
import { api, PASSWORD } from '../support/api';
import { startTestApp, TestApp, workerDatabaseUrl } from '../support/harness';

const INVISIBLE_MESSAGE = 'email must not contain invisible or formatting characters';

/** Addresses that show as `doc1@example.com` (or `dóc@example.com`) but are other strings. */
const LOOKALIKES = [
  'ｄoc1@example.com', // fullwidth d
  'ｄｏｃ１＠ｅｘａｍｐｌｅ．ｃｏｍ', // all fullwidth
  'DOC1@Example.COM',
  '  doc1@example.com\t',
  'do\u0301c@example.com', // o + combining acute, against the precomposed ó
];

/** Addresses with characters that show as nothing, or reorder what is shown. */
const INVISIBLE = [
  'doc1\u200b@example.com', // zero-width space
  'do\u200dc1@example.com', // zero-width joiner
  'doc\u200c1@example.com', // zero-width non-joiner
  '\ufeffdoc1@example.com', // zero-width no-break space, where trim() would silently drop it
  'do\u00adc1@example.com', // soft hyphen
  'doc1\u2060@example.com', // word joiner
  '\u202edoc1@example.com', // right-to-left override
  'doc1\u2066@example.com', // left-to-right isolate
];

const clinicalSignup = (email: string) => ({
  title: 'Dr.',
  firstName: 'Grace',
  lastName: 'Hopper',
  email,
  password: PASSWORD,
  specialty: 'Cardiology',
  ehr_system_type: 'cloud',
  ehr_system_name: 'Epic',
});

describe('no two accounts that look alike (API.md section 0)', () => {
  let t: TestApp;
  let h: ReturnType<typeof api>;
  let admin: string;
  let doc1: { id: string };
  const users = async () => ((await t.db.query(`SELECT count(*)::int AS n FROM users`)) as { n: number }[])[0].n;

  const portalRegister = (email: string) =>
    request(t.url)
      .post('/api/auth/register')
      .set(h.bearer(admin))
      .send({ email, role: 'researcher', password: PASSWORD });
  const clinicalRegister = (email: string) => request(t.url).post('/api/register').send(clinicalSignup(email));
  const keyTokenSignUp = (email: string) =>
    request(t.url).post('/users').send({ client: 'web', email, password: PASSWORD });

  beforeAll(async () => {
    t = await startTestApp();
    h = api(t);
    admin = await h.adminToken();
    doc1 = await h.createUser('doc1@example.com', 'researcher', PASSWORD, admin);
    await h.createUser('dóc@example.com', 'researcher', PASSWORD, admin);
    await h.createUser('pat@example.com', 'patient', null, admin);
  });
  afterAll(() => t.close());

  it('refuses a second account under a lookalike address on every sign-up route (the attack: 201 before)', async () => {
    const before = await users();
    for (const email of LOOKALIKES) {
      const portal = await portalRegister(email);
      expect([email, portal.status, portal.body]).toEqual([
        email,
        409,
        { error: { code: 'CONFLICT', message: 'A user with this email already exists' } },
      ]);
      const clinical = await clinicalRegister(email);
      expect([email, clinical.status, clinical.body.code]).toEqual([email, 409, 'EMAIL_EXISTS']);
      const keyToken = await keyTokenSignUp(email);
      expect([email, keyToken.status, keyToken.body]).toEqual([
        email,
        409,
        { errors: ['That email is already in use'] },
      ]);
    }
    expect(await users()).toBe(before);
  });

  it('refuses addresses with invisible or formatting characters with 400 VALIDATION_ERROR in each dialect', async () => {
    const before = await users();
    for (const email of INVISIBLE) {
      const portal = await portalRegister(email);
      expect([JSON.stringify(email), portal.status, portal.body]).toEqual([
        JSON.stringify(email),
        400,
        { error: { code: 'VALIDATION_ERROR', message: 'Invalid input data', details: { email: INVISIBLE_MESSAGE } } },
      ]);
      const clinical = await clinicalRegister(email);
      expect([JSON.stringify(email), clinical.status, clinical.body]).toEqual([
        JSON.stringify(email),
        400,
        {
          success: false,
          error: INVISIBLE_MESSAGE,
          code: 'VALIDATION_ERROR',
          fields: [{ name: 'email', message: INVISIBLE_MESSAGE }],
        },
      ]);
      const keyToken = await keyTokenSignUp(email);
      expect([JSON.stringify(email), keyToken.status, keyToken.body]).toEqual([
        JSON.stringify(email),
        400,
        { errors: [`email: ${INVISIBLE_MESSAGE}`] },
      ]);
    }
    expect(await users()).toBe(before);
  });

  it('stores and shows the normalised address', async () => {
    const portal = await portalRegister('  Ｎew.Person@Example.COM ').expect(201);
    expect(portal.body.email).toBe('new.person@example.com');
    const clinical = await clinicalRegister('ＧＲＡＣＥ@Clinic.Example').expect(201);
    expect(clinical.body.user.email).toBe('grace@clinic.example');
    await keyTokenSignUp('KT＠Example.com').expect(201);
    const [{ email }] = await t.db.query(`SELECT email FROM users WHERE email LIKE 'kt@%'`);
    expect(email).toBe('kt@example.com');
  });

  it('PATCH /users: a lookalike of a taken address is 409, an invisible character 400, and a new one is stored normalised', async () => {
    const pair = (await keyTokenSignUp('mover@example.com').expect(201)).body as { key: string; token: string };
    const auth = `Basic ${Buffer.from(`${pair.key}:${pair.token}`).toString('base64')}`;
    const patch = (email: string) => request(t.url).patch('/users').set('Authorization', auth).send({ email });
    for (const email of LOOKALIKES) {
      expect([email, (await patch(email)).body]).toEqual([email, { errors: ['That email is already taken'] }]);
    }
    for (const email of INVISIBLE) {
      const res = await patch(email);
      expect([JSON.stringify(email), res.status, res.body]).toEqual([
        JSON.stringify(email),
        400,
        { errors: [`email: ${INVISIBLE_MESSAGE}`] },
      ]);
    }
    // The new address waits for its link (API.md 12), stored normalised.
    expect((await patch('Ｍoved@Example.com').expect(200)).body.pending_email).toBe('moved@example.com');
  });

  it('finds the account under any spelling of its address, on every login', async () => {
    const spelling = 'ＤＯＣ１@Example.COM ';
    const portal = await request(t.url).post('/api/auth/login').send({ username: spelling, password: PASSWORD });
    expect(portal.status).toBe(200);
    expect(portal.body.user.id).toBe(doc1.id);
    await request(t.url).post('/api/auth/login').send({ email: spelling, password: PASSWORD }).expect(200);
    await request(t.url).post('/users/token').send({ client: 'web', email: spelling, password: PASSWORD }).expect(200);
    const iam = await request(t.url).post('/v1/auth/token/').send({ username: spelling, password: PASSWORD });
    expect(iam.status).toBe(200);
    // The clinical login, once the address is verified through its mail.
    await clinicalRegister('surgeon@clinic.example').expect(201);
    const mail = await t.smtp.waitFor('surgeon@clinic.example');
    const token = /verify\?token=([A-Za-z0-9_-]+)/.exec(mail.text)![1];
    await request(t.url).post('/api/verification/verify').send({ token }).expect(200);
    await request(t.url)
      .post('/api/login')
      .send({ email: 'ＳＵＲＧＥＯＮ@clinic.example', password: PASSWORD })
      .expect(200);
  });

  it('refuses a login identifier with invisible characters with 400 VALIDATION_ERROR in each dialect', async () => {
    for (const id of INVISIBLE) {
      const label = JSON.stringify(id);
      const portal = await request(t.url).post('/api/auth/login').send({ username: id, password: PASSWORD });
      expect([label, portal.status, portal.body.error.code, portal.body.error.details]).toEqual([
        label,
        400,
        'VALIDATION_ERROR',
        { username: 'username must not contain invisible or formatting characters' },
      ]);
      const portalEmail = await request(t.url).post('/api/auth/login').send({ email: id, password: PASSWORD });
      expect([label, portalEmail.status, portalEmail.body.error.details]).toEqual([
        label,
        400,
        { email: INVISIBLE_MESSAGE },
      ]);
      const clinical = await request(t.url).post('/api/login').send({ email: id, password: PASSWORD });
      expect([label, clinical.status, clinical.body.code, clinical.body.error]).toEqual([
        label,
        400,
        'VALIDATION_ERROR',
        INVISIBLE_MESSAGE,
      ]);
      const keyToken = await request(t.url).post('/users/token').send({ client: 'web', email: id, password: PASSWORD });
      expect([label, keyToken.status, keyToken.body]).toEqual([
        label,
        400,
        { errors: [`email: ${INVISIBLE_MESSAGE}`] },
      ]);
      const iam = await request(t.url).post('/v1/auth/token/').send({ username: id, password: PASSWORD });
      expect([label, iam.status, iam.body]).toEqual([
        label,
        400,
        {
          error_codes: [400],
          message: 'Validation error.',
          fields: [
            {
              name: 'username',
              message: 'This field may not hold invisible or formatting characters.',
              error_code: 400,
            },
          ],
        },
      ]);
    }
  });

  it('magic-link request: invisible characters are a 400; a lookalike spelling reaches the real address', async () => {
    for (const email of INVISIBLE) {
      const res = await request(t.url).post('/api/auth/magic-link').send({ email });
      expect([JSON.stringify(email), res.status, res.body.error.details]).toEqual([
        JSON.stringify(email),
        400,
        { email: INVISIBLE_MESSAGE },
      ]);
    }
    t.smtp.messages.length = 0;
    const res = await request(t.url).post('/api/auth/magic-link').send({ email: 'ＰＡＴ@Example.com' }).expect(202);
    expect(res.body).toEqual({ message: 'Magic link sent to pat@example.com' });
    await t.app.get(MagicLinkService).settled();
    expect(t.smtp.to('pat@example.com')).toHaveLength(1);
    expect(t.smtp.messages).toHaveLength(1);
  });

  it('verification resend: invisible characters are a 400; a lookalike spelling reaches the real address', async () => {
    for (const email of INVISIBLE) {
      const res = await request(t.url).post('/api/verification/resend').send({ email });
      expect([JSON.stringify(email), res.status, res.body.code]).toEqual([
        JSON.stringify(email),
        400,
        'VALIDATION_ERROR',
      ]);
    }
    await clinicalRegister('resend@clinic.example').expect(201);
    await t.smtp.waitFor('resend@clinic.example');
    t.smtp.messages.length = 0;
    await request(t.url).post('/api/verification/resend').send({ email: 'ＲＥＳＥＮＤ@Clinic.Example' }).expect(200);
    await t.app.get(EmailVerificationService).settled();
    expect(t.smtp.to('resend@clinic.example')).toHaveLength(1);
  });

  it('refuses usernames with invisible characters (usernames are 3-64 letters, digits, dots, dashes, underscores)', async () => {
    const res = await request(t.url)
      .post('/api/auth/register')
      .set(h.bearer(admin))
      .send({ email: 'named@example.com', role: 'researcher', password: PASSWORD, username: 'ad\u200bmin' })
      .expect(400);
    expect(res.body.error.details).toHaveProperty('username');
  });
});

describe('the migration that folds stored addresses', () => {
  const url = new URL(workerDatabaseUrl());
  url.pathname = `${url.pathname}_fold`;
  const target = MIGRATIONS.indexOf(NormalizedEmails1763900600000);
  const report = NormalizedEmails1763900600000.report;
  const messages: string[] = [];
  let ds: DataSource;

  beforeAll(async () => {
    const adminUrl = new URL(url);
    adminUrl.pathname = '/postgres';
    const c = new Client({ connectionString: adminUrl.toString() });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS "${url.pathname.slice(1)}"`);
    await c.query(`CREATE DATABASE "${url.pathname.slice(1)}"`);
    await c.end();
    const before = await new DataSource({
      ...dataSourceOptions(url.toString(), ENTITIES),
      migrations: MIGRATIONS.slice(0, target),
    }).initialize();
    await before.runMigrations();
    await before.destroy();
    NormalizedEmails1763900600000.report = (m) => messages.push(m);
    // Up to this migration only: later ones are not what this suite tests.
    ds = await new DataSource({
      ...dataSourceOptions(url.toString(), ENTITIES),
      migrations: MIGRATIONS.slice(0, target + 1),
    }).initialize();
  });
  afterAll(async () => {
    NormalizedEmails1763900600000.report = report;
    await ds?.destroy();
  });

  it('folds every address, leaves both accounts of a collision as they are, and logs them by id', async () => {
    // Rows as the service made them before the check existed (the lower(email) index let them in).
    const rows: Record<string, string> = {
      plain: 'doc1@example.com',
      fullwidth: 'ｄoc1@example.com', // collides with plain, which already holds the normalised form
      decomposed: 'do\u0301c@example.com',
      capitals: 'Mixed@Example.COM',
      spaced: ' spaced@example.com ',
      eveA: 'ｅve@example.com', // eveA and eveB collide, and neither holds the normalised form
      eveB: 'eｖe@example.com',
      hidden: 'zw\u200bsp@example.com',
    };
    const ids: Record<string, string> = {};
    for (const [name, email] of Object.entries(rows)) {
      const [{ id }] = await ds.query(`INSERT INTO users (email, role) VALUES ($1, 'viewer') RETURNING id`, [email]);
      ids[name] = id;
    }
    expect(await ds.runMigrations()).toEqual([expect.objectContaining({ name: 'NormalizedEmails1763900600000' })]);

    const after = Object.fromEntries(
      ((await ds.query(`SELECT id, email FROM users`)) as { id: string; email: string }[]).map((r) => [r.id, r.email]),
    );
    expect(Object.fromEntries(Object.entries(ids).map(([name, id]) => [name, after[id]]))).toEqual({
      plain: 'doc1@example.com',
      fullwidth: 'ｄoc1@example.com',
      decomposed: 'dóc@example.com',
      capitals: 'mixed@example.com',
      spaced: 'spaced@example.com',
      eveA: 'ｅve@example.com',
      eveB: 'eｖe@example.com',
      hidden: 'zw\u200bsp@example.com',
    });

    const log = messages.join('\n');
    expect(messages).toContainEqual(expect.stringContaining(`${ids.plain}, ${ids.fullwidth}`));
    expect(messages).toContainEqual(expect.stringContaining(`${ids.eveA}, ${ids.eveB}`));
    expect(messages).toContainEqual(expect.stringContaining(ids.hidden));
    expect(log).toContain('normalised the email address of 3 account(s)');
    for (const email of Object.values(rows)) expect(log).not.toContain(email.trim());

    const [{ indexdef }] = await ds.query(`SELECT indexdef FROM pg_indexes WHERE indexname = 'users_email_key'`);
    expect(indexdef).toMatch(/UNIQUE INDEX users_email_key ON public\.users USING btree \(email\)/);
    await expect(
      ds.query(`INSERT INTO users (email, role) VALUES ('doc1@example.com', 'viewer')`),
    ).rejects.toMatchObject({ driverError: { code: '23505' } });
  });

  it('reverts to the lower(email) index and applies again', async () => {
    await ds.undoLastMigration();
    const [{ n }] = await ds.query(
      `SELECT count(*)::int AS n FROM pg_indexes WHERE indexname = 'users_email_lower_key'`,
    );
    expect(n).toBe(1);
    await ds.runMigrations();
    const [{ m }] = await ds.query(`SELECT count(*)::int AS m FROM pg_indexes WHERE indexname = 'users_email_key'`);
    expect(m).toBe(1);
  });
});
