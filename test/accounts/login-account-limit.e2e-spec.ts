import request from 'supertest';
import { api, PASSWORD, sameTime } from '../support/api';
import { startTestApp, TestApp } from '../support/harness';

const WRONG = 'Wrong-Pass-123';
// The timing comparison is statistical on a shared machine: a run disturbed by another suite may be retried.
jest.retryTimes(2, { logErrorsBeforeRetry: true });

/**
 * API.md section 0: 5 login attempts per 15 minutes per IP and account, "the account the identifier
 * names, by email or by username alike". The counter is keyed on the account, not on the text typed,
 * so an email and a username of one account (in any spelling, on any surface) share it.
 */
describe('the per-account login limit counts the account, however it is named', () => {
  let t: TestApp;
  let h: ReturnType<typeof api>;
  let admin: string;

  const portal = (body: Record<string, string>) => request(t.url).post('/api/auth/login').send(body);
  /** A fresh account per call (a retried test must not meet the counters of its first run). */
  let run = 0;
  const withUsername = async (name: string) => {
    run += 1;
    const email = `${name}${run}@example.com`;
    const username = `${name}.${run}`;
    await request(t.url)
      .post('/api/auth/register')
      .set(h.bearer(admin))
      .send({ email, username, role: 'researcher', password: PASSWORD })
      .expect(201);
    return { email, username };
  };

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_LOGIN: '5/15m', RATE_LIMIT_LOGIN_IP: 'off' });
    h = api(t);
    admin = await h.adminToken();
  });
  afterAll(() => t.close());

  it('refuses the username after 5 wrong passwords by email (the attack: 5 more guesses before)', async () => {
    const a = await withUsername('ten');
    for (let i = 1; i <= 5; i++) {
      const res = await portal({ username: a.email, password: WRONG }).expect(401);
      expect(res.headers['x-ratelimit-remaining']).toBe(String(5 - i));
    }
    const res = await portal({ username: a.username, password: PASSWORD }).expect(429);
    expect(res.body).toEqual({ error: { code: 'RATE_LIMIT_EXCEEDED', message: 'Too many requests, try again later' } });
    expect(res.headers['x-ratelimit-limit']).toBe('5');
    expect(res.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(800);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(900);
    await portal({ email: a.email, password: PASSWORD }).expect(429);
  });

  it('and the other way round, whatever the spelling: 5 by username, then the email in fullwidth capitals', async () => {
    const a = await withUsername('other');
    for (let i = 0; i < 5; i++) await portal({ username: a.username.toUpperCase(), password: WRONG }).expect(401);
    const fullwidth = [...a.email.split('@')[0].toUpperCase()]
      .map((c) => (/[A-Z0-9]/.test(c) ? String.fromCodePoint(c.codePointAt(0)! + 0xfee0) : c))
      .join('');
    await portal({ email: `${fullwidth}@Example.com`, password: PASSWORD }).expect(429);
  });

  it('shares the counter across the portal, clinical, key:token and IAM logins', async () => {
    const a = await withUsername('everywhere');
    await portal({ username: a.email, password: WRONG }).expect(401);
    await portal({ username: a.username, password: WRONG }).expect(401);
    await request(t.url).post('/api/login').send({ email: a.email.toUpperCase(), password: WRONG }).expect(401);
    await request(t.url).post('/users/token').send({ client: 'web', email: a.username, password: WRONG }).expect(400);
    await request(t.url).post('/v1/auth/token/').send({ username: a.username, password: WRONG }).expect(401);
    const keyToken = await request(t.url)
      .post('/users/token')
      .send({ client: 'web', email: a.email, password: PASSWORD })
      .expect(429);
    expect(keyToken.body).toEqual({ errors: ['Too many requests, try again later'] });
    expect(keyToken.headers['retry-after']).toBeDefined();
    await request(t.url).post('/v1/auth/token/').send({ username: a.email, password: PASSWORD }).expect(429);
    await request(t.url).post('/api/login').send({ email: a.email, password: PASSWORD }).expect(429);
    await portal({ username: a.username, password: PASSWORD }).expect(429);
  });

  it('counts an unknown identifier under its normalised text, and answers it exactly as a known account', async () => {
    const a = await withUsername('known');
    const nobody = `nobody${run}@example.com`;
    const attempts = async (first: string, variant: string) => {
      const seen: unknown[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await portal({ username: first, password: WRONG });
        seen.push([res.status, res.body, res.headers['x-ratelimit-remaining']]);
      }
      const last = await portal({ username: variant, password: WRONG });
      seen.push([
        last.status,
        last.body,
        last.headers['x-ratelimit-remaining'],
        Number(last.headers['retry-after']) > 0,
      ]);
      return seen;
    };
    const known = await attempts(a.email, a.email.toUpperCase());
    const unknown = await attempts(nobody, nobody.toUpperCase());
    expect(unknown).toEqual(known);
    expect(known[5]).toEqual([429, expect.anything(), '0', true]);
    // Another unknown text is another counter.
    await portal({ username: `else-${nobody}`, password: WRONG }).expect(401);
  });

  it('keeps another account from the same IP unaffected', async () => {
    const a = await withUsername('bystander');
    await portal({ username: a.username, password: PASSWORD }).expect(200);
  });
});

describe('the per-account login limit does not tell known accounts from unknown ones by time', () => {
  let t: TestApp;

  beforeAll(async () => {
    // A limit high enough never to refuse: the account is still resolved for every attempt.
    t = await startTestApp({ RATE_LIMIT_LOGIN: '1000/15m', RATE_LIMIT_LOGIN_IP: 'off' });
    await api(t).createUser('timed@example.com', 'researcher');
  });
  afterAll(() => t.close());

  it('answers a wrong password for a known account and any password for an unknown one in the same time', async () => {
    const send = (username: string) => request(t.url).post('/api/auth/login').send({ username, password: WRONG });
    for (let i = 0; i < 3; i++) {
      await send('timed@example.com').expect(401);
      await send(`warm${i}@example.com`).expect(401);
    }
    expect(
      await sameTime(
        () => send('timed@example.com').expect(401),
        (i) => send(`ghost${i}@example.com`).expect(401),
        { low: 0.85, high: 1.15, floorMs: 1.5 },
      ),
    ).toBe('the same time');
  });
});
