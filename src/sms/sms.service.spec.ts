import { createHmac } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { isE164, maskPhone } from './e164';
import { signSmsPayload, SmsDeliveryError, SmsService } from './sms.service';

const PHONE = '+447700900123';
const CODE_BODY = 'Your sign-in code is 493817';
const SECRET = 'unit-webhook-secret-0123456789abcdef';
const WEBHOOK = 'https://sms-gateway.test/hook?key=URL-KEY';

function config(over: Partial<AppConfig['sms']> = {}, env: AppConfig['env'] = 'development'): AppConfig {
  return {
    env,
    dataDir: mkdtempSync(join(tmpdir(), 'identity-sms-')),
    sms: { timeoutMs: 5000, ...over },
  } as AppConfig;
}
const webhookConfig = () => config({ webhookUrl: WEBHOOK, webhookSecret: Buffer.from(SECRET) });

/** Every argument given to the Nest logger, at any level, as one string to search. */
function captureLogs() {
  const logged: unknown[] = [];
  const spies = (['log', 'warn', 'error', 'debug'] as const).map((level) =>
    jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => {
      logged.push([level, ...args]);
    }),
  );
  return {
    get text() {
      return JSON.stringify(logged);
    },
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}

describe('isE164', () => {
  it.each(['+14155552671', '+447700900123', '+12345678', '+123456789012345'])('accepts %p', (p) =>
    expect(isE164(p)).toBe(true),
  );
  it.each([
    '14155552671',
    '+1234567',
    '+1234567890123456',
    '+04155552671',
    '+1 415 555 2671',
    '+1-415-555-2671',
    '+1415555267a',
    ' +14155552671',
    '+14155552671\n',
    '',
    undefined,
    14155552671,
  ])('refuses %p', (p) => expect(isE164(p)).toBe(false));

  it('masks a number to its last four digits for the log', () => {
    expect(maskPhone(PHONE)).toBe('+********0123');
  });
});

describe('SmsService without SMS_WEBHOOK_URL (development)', () => {
  let logs: ReturnType<typeof captureLogs>;
  beforeEach(() => (logs = captureLogs()));
  afterEach(() => logs.restore());

  it('writes each SMS to DATA_DIR/sms as a private .txt file and logs the file, not the body', async () => {
    const cfg = config();
    const sut = new SmsService(cfg);
    expect(sut.mode).toBe('file');
    await sut.send({ to: PHONE, body: CODE_BODY });
    await sut.send({ to: PHONE, body: 'Your sign-in code is 000111' });

    const dir = join(cfg.dataDir, 'sms');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dir);
    expect(files).toHaveLength(2);
    const [first, second] = files.sort();
    expect(first).toMatch(/^\d{4}-\d\d-\d\dT[\d-]+Z-\d{6}-[0-9a-f]{6}\.txt$/);
    expect(statSync(join(dir, first)).mode & 0o777).toBe(0o600);
    const text = readFileSync(join(dir, first), 'utf8');
    expect(text).toContain(`To: ${PHONE}`);
    expect(text).toContain(CODE_BODY);
    expect(readFileSync(join(dir, second), 'utf8')).toContain('000111');

    expect(logs.text).toContain(join(dir, first));
    expect(logs.text).toContain('0123');
    expect(logs.text).not.toContain('493817');
    expect(logs.text).not.toContain('000111');
    expect(logs.text).not.toContain(PHONE);
    expect(await sut.check()).toEqual({ ok: true, mode: 'file' });
  });

  it('makes an existing DATA_DIR/sms private before writing codes into it', async () => {
    const cfg = config();
    mkdirSync(join(cfg.dataDir, 'sms'));
    chmodSync(join(cfg.dataDir, 'sms'), 0o755);
    await new SmsService(cfg).send({ to: PHONE, body: CODE_BODY });
    expect(statSync(join(cfg.dataDir, 'sms')).mode & 0o777).toBe(0o700);
  });

  it('refuses a number that is not E.164 or an empty body, and writes nothing', async () => {
    const cfg = config();
    const sut = new SmsService(cfg);
    await expect(sut.send({ to: '07700 900123', body: CODE_BODY })).rejects.toThrow(TypeError);
    await expect(sut.send({ to: PHONE, body: '' })).rejects.toThrow(TypeError);
    expect(() => readdirSync(join(cfg.dataDir, 'sms'))).toThrow();
  });

  it('warns at start in production, where a code in a file reaches nobody', () => {
    new SmsService(config({}, 'production'));
    expect(logs.text).toContain('SMS_WEBHOOK_URL is not set');
    logs.restore();
    logs = captureLogs();
    new SmsService(config({}, 'development'));
    expect(logs.text).not.toContain('SMS_WEBHOOK_URL');
  });
});

describe('SmsService with SMS_WEBHOOK_URL', () => {
  let logs: ReturnType<typeof captureLogs>;
  let fetchMock: jest.SpyInstance;
  beforeEach(() => {
    logs = captureLogs();
    fetchMock = jest.spyOn(globalThis, 'fetch').mockResolvedValue(new Response('{"sid":"SM1"}', { status: 201 }));
  });
  afterEach(() => {
    logs.restore();
    fetchMock.mockRestore();
  });

  it('POSTs {"to","body"} as JSON, signed with the HMAC-SHA256 of the exact bytes, with a timeout and no redirects', async () => {
    const sut = new SmsService(webhookConfig());
    expect(sut.mode).toBe('webhook');
    await sut.send({ to: PHONE, body: CODE_BODY });

    expect(fetchMock).toHaveBeenCalledTimes(1);
    const [url, init] = fetchMock.mock.calls[0] as [string, RequestInit];
    expect(url).toBe(WEBHOOK);
    expect(init.method).toBe('POST');
    expect(init.redirect).toBe('manual');
    expect(init.signal).toBeInstanceOf(AbortSignal);
    const raw = init.body as Buffer;
    expect(JSON.parse(raw.toString('utf8'))).toEqual({ to: PHONE, body: CODE_BODY });
    const headers = init.headers as Record<string, string>;
    expect(headers['Content-Type']).toBe('application/json');
    expect(headers['X-Signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`);
    expect(headers['X-Signature']).toBe(signSmsPayload(SECRET, raw));

    expect(logs.text).toContain('sms sent');
    expect(logs.text).not.toContain('493817');
    expect(logs.text).not.toContain('URL-KEY');
  });

  it('rejects on a non-2xx answer, once (no retry), without the answer or the code in the error', async () => {
    fetchMock.mockResolvedValue(new Response(`echo: ${CODE_BODY}`, { status: 502 }));
    const sut = new SmsService(webhookConfig());
    const err = await sut.send({ to: PHONE, body: CODE_BODY }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmsDeliveryError);
    expect((err as SmsDeliveryError).status).toBe(502);
    expect((err as Error).message).toBe('SMS webhook answered 502');
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it('treats a redirect as a failure', async () => {
    fetchMock.mockResolvedValue(new Response(null, { status: 302, headers: { Location: 'http://elsewhere/' } }));
    await expect(new SmsService(webhookConfig()).send({ to: PHONE, body: CODE_BODY })).rejects.toMatchObject({
      status: 302,
    });
  });

  it('rejects on a network error or a timeout, naming neither the URL nor the code', async () => {
    const sut = new SmsService(webhookConfig());
    fetchMock.mockRejectedValueOnce(
      Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) }),
    );
    await expect(sut.send({ to: PHONE, body: CODE_BODY })).rejects.toThrow('SMS webhook unreachable: ECONNREFUSED');
    fetchMock.mockRejectedValueOnce(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    await expect(sut.send({ to: PHONE, body: CODE_BODY })).rejects.toThrow('SMS webhook timed out after 5000 ms');
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(logs.text).not.toContain('493817');
  });

  it('refuses a number that is not E.164 before anything is sent', async () => {
    await expect(new SmsService(webhookConfig()).send({ to: '+44 7700 900123', body: CODE_BODY })).rejects.toThrow(
      /E\.164/,
    );
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('lets an SMS on its way finish at shutdown', async () => {
    let answer!: (r: Response) => void;
    fetchMock.mockReturnValue(new Promise<Response>((resolve) => (answer = resolve)));
    const sut = new SmsService(webhookConfig());
    const sent = sut.send({ to: PHONE, body: CODE_BODY });
    let shutDown = false;
    const shutdown = sut.onApplicationShutdown().then(() => (shutDown = true));
    await new Promise((r) => setImmediate(r));
    expect(shutDown).toBe(false);
    answer(new Response(null, { status: 204 }));
    await sent;
    await shutdown;
    expect(shutDown).toBe(true);
  });

  it('checks the webhook for the health page with an unsigned HEAD: any answer below 500 is up', async () => {
    const sut = new SmsService(webhookConfig());
    fetchMock.mockResolvedValueOnce(new Response(null, { status: 405 }));
    expect(await sut.check()).toEqual({ ok: true, mode: 'webhook' });
    const [, init] = fetchMock.mock.calls[0] as [string, RequestInit];
    expect(init.method).toBe('HEAD');
    expect(init.body).toBeUndefined();
    fetchMock.mockResolvedValueOnce(new Response(null, { status: 503 }));
    expect(await sut.check()).toEqual({ ok: false, mode: 'webhook', error: 'answered 503' });
    fetchMock.mockRejectedValueOnce(
      Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('x'), { code: 'ENOTFOUND' }) }),
    );
    expect(await sut.check()).toEqual({ ok: false, mode: 'webhook', error: 'unreachable: ENOTFOUND' });
  });
});
