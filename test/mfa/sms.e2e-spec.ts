import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import request from 'supertest';
import { AppConfig } from '../../src/config/config';
import { SmsDeliveryError, SmsService } from '../../src/sms/sms.service';
import { api } from '../support/api';
import { startTestApp, TestApp } from '../support/harness';
import { SmsCatcher } from '../support/sms-catcher';

const PHONE = '+14155552671';
const codes: string[] = [];
/** A fresh 6-digit code, remembered so that the log can be searched for every one of them. */
const code = () => {
  const c = String(100000 + Math.floor(Math.random() * 900000));
  codes.push(c);
  return c;
};

/** The service on its own, against the real receiver, with a short timeout where a test needs one. */
function smsService(catcher: SmsCatcher, secret = catcher.secret, timeoutMs = 5000): SmsService {
  return new SmsService({
    env: 'test',
    dataDir: '/nonexistent',
    sms: { webhookUrl: catcher.url, webhookSecret: Buffer.from(secret), timeoutMs },
  } as AppConfig);
}

describe('SMS webhook against a real HTTP receiver', () => {
  const catcher = new SmsCatcher();
  const logged: unknown[] = [];
  const spies: jest.SpyInstance[] = [];
  beforeAll(async () => {
    for (const level of ['log', 'warn', 'error', 'debug'] as const) {
      spies.push(jest.spyOn(Logger.prototype, level).mockImplementation((...args) => void logged.push(args)));
    }
    await catcher.start();
  });
  afterAll(async () => {
    spies.forEach((s) => s.mockRestore());
    await catcher.stop();
  });
  beforeEach(() => {
    catcher.answer = 200;
    catcher.delayMs = 0;
    catcher.redirectTo = undefined;
  });

  it('delivers {"to","body"} as JSON with a valid X-Signature over the raw body', async () => {
    const body = `Your sign-in code is ${code()}`;
    await smsService(catcher).send({ to: PHONE, body });
    const req = catcher.requests.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/sms');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.signatureValid).toBe(true);
    expect(req.headers['x-signature']).toBe(
      `sha256=${createHmac('sha256', catcher.secret).update(req.raw).digest('hex')}`,
    );
    expect(JSON.parse(req.raw.toString('utf8'))).toEqual({ to: PHONE, body });
    expect(await catcher.waitFor(PHONE, (m) => m.body === body)).toEqual({ to: PHONE, body });
  });

  it('rejects when the receiver answers 500, after one request (no retry)', async () => {
    catcher.answer = 500;
    const before = catcher.requests.length;
    const err = await smsService(catcher)
      .send({ to: PHONE, body: `Your sign-in code is ${code()}` })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmsDeliveryError);
    expect((err as SmsDeliveryError).status).toBe(500);
    expect(catcher.requests.length - before).toBe(1);
  });

  it('lets the receiver detect a service that signs with another secret', async () => {
    const body = `Your sign-in code is ${code()}`;
    const sent = smsService(catcher, 'another-secret-of-the-right-length-00').send({ to: PHONE, body });
    await expect(sent).rejects.toMatchObject({ status: 401 });
    const req = catcher.requests.at(-1)!;
    const expected = `sha256=${createHmac('sha256', catcher.secret).update(req.raw).digest('hex')}`;
    expect(req.headers['x-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(req.headers['x-signature']).not.toBe(expected);
    expect(req.signatureValid).toBe(false);
    expect(catcher.to(PHONE).some((m) => m.body === body)).toBe(false);
  });

  it('rejects a receiver that does not answer within the timeout', async () => {
    catcher.delayMs = 1000;
    const started = Date.now();
    await expect(smsService(catcher, catcher.secret, 200).send({ to: PHONE, body: 'x' })).rejects.toThrow(
      'SMS webhook timed out after 200 ms',
    );
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('does not follow a redirect with the signed code', async () => {
    catcher.redirectTo = `http://127.0.0.1:${catcher.port}/elsewhere`;
    const before = catcher.requests.length;
    await expect(smsService(catcher).send({ to: PHONE, body: 'x' })).rejects.toMatchObject({ status: 307 });
    expect(catcher.requests.length - before).toBe(1);
  });

  it('rejects when nothing listens at the URL', async () => {
    const gone = new SmsCatcher();
    await gone.start();
    await gone.stop();
    await expect(smsService(gone).send({ to: PHONE, body: 'x' })).rejects.toThrow(
      'SMS webhook unreachable: ECONNREFUSED',
    );
    expect(await smsService(gone).check()).toMatchObject({ ok: false, mode: 'webhook' });
  });

  it('logged what was sent, never a code', () => {
    const text = JSON.stringify(logged);
    expect(text).toContain('sms sent');
    for (const c of codes) expect(text).not.toContain(c);
  });
});

describe('SMS in the application, through the webhook', () => {
  const catcher = new SmsCatcher();
  let t: TestApp;
  beforeAll(async () => {
    await catcher.start();
    t = await startTestApp({ SMS_WEBHOOK_URL: catcher.url, SMS_WEBHOOK_SECRET: catcher.secret });
  });
  afterAll(async () => {
    await t?.close();
    await catcher.stop();
  });

  it('sends through the receiver and keeps the code out of the log, sent or failed', async () => {
    const sms = t.app.get(SmsService);
    expect(sms.mode).toBe('webhook');
    const sent = code();
    await sms.send({ to: PHONE, body: `Your sign-in code is ${sent}` });
    expect((await catcher.waitFor(PHONE, (m) => m.body.includes(sent))).body).toBe(`Your sign-in code is ${sent}`);

    catcher.answer = 500;
    const failed = code();
    await expect(sms.send({ to: PHONE, body: `Your sign-in code is ${failed}` })).rejects.toThrow(SmsDeliveryError);
    catcher.answer = 200;

    await new Promise((r) => setTimeout(r, 300)); // the log is written in batches
    expect(t.logs.text).toContain('sms sent');
    expect(t.logs.text).not.toContain(sent);
    expect(t.logs.text).not.toContain(failed);
    expect(t.logs.text).not.toContain(catcher.secret);
  });

  it('reports the webhook on the detailed health page', async () => {
    const token = await api(t).adminToken();
    const res = await request(t.url).get('/api/health/detailed').set('Authorization', `Bearer ${token}`).expect(200);
    expect(res.body.details.sms).toEqual({ status: 'up', mode: 'webhook' });
    expect(catcher.requests.at(-1)!.method).toBe('HEAD');
  });

  it('says so on the health page when the webhook is down (the last test here: it stops the receiver)', async () => {
    const token = await api(t).adminToken();
    await catcher.stop();
    const res = await request(t.url).get('/api/health/detailed').set('Authorization', `Bearer ${token}`).expect(503);
    expect(res.body.error.sms).toMatchObject({ status: 'down', mode: 'webhook' });
    expect(res.body.error.sms.message).toMatch(/^unreachable: /);
  });
});

describe('SMS in the application, without SMS_WEBHOOK_URL (development files)', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startTestApp()));
  afterAll(() => t?.close());

  it('writes the SMS to a private file and names the file, not the code, in the log', async () => {
    const sms = t.app.get(SmsService);
    expect(sms.mode).toBe('file');
    const sent = code();
    await sms.send({ to: PHONE, body: `Your sign-in code is ${sent}` });

    const dir = join(t.dataDir, 'sms');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const [file] = readdirSync(dir);
    expect(file).toMatch(/\.txt$/);
    expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);
    const text = readFileSync(join(dir, file), 'utf8');
    expect(text).toContain(`To: ${PHONE}`);
    expect(text).toContain(`Your sign-in code is ${sent}`);

    await new Promise((r) => setTimeout(r, 300)); // the log is written in batches
    const line = t.logs.lines.find((l) => l.includes('sms written to file'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ file: join(dir, file), to: '+*******2671' });
    expect(t.logs.text).not.toContain(sent);
    expect(t.logs.text).not.toContain(PHONE);
  });
});
