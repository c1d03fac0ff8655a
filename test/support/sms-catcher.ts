import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';

export interface CaughtSms {
  to: string;
  body: string;
}

export interface WebhookRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  /** Whether X-Signature is the HMAC of the raw body under this receiver's secret. */
  signatureValid: boolean;
}

/** What a receiver does, as README's SMS section tells it: HMAC the raw bytes, compare in constant time. */
export function verifySignature(secret: string, raw: Buffer, header: string | undefined): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`);
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * A real HTTP receiver on a loopback port, the SMS gateway's stand-in: it checks the signature over the
 * raw body and records the messages it accepts. `answer` sets the status it replies to POSTs (a
 * gateway's outage), `delayMs` how long it waits first, `redirectTo` a redirect it answers instead.
 */
export class SmsCatcher {
  readonly messages: CaughtSms[] = [];
  readonly requests: WebhookRequest[] = [];
  answer = 200;
  delayMs = 0;
  redirectTo?: string;
  port = 0;
  private server?: Server;
  private waiters: (() => void)[] = [];

  constructor(readonly secret = randomBytes(32).toString('base64url')) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const header = req.headers['x-signature'];
        const signatureValid = verifySignature(this.secret, raw, Array.isArray(header) ? header[0] : header);
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, raw, signatureValid });
        const reply = () => {
          if (req.method === 'HEAD') return res.writeHead(405, { Allow: 'POST' }).end();
          if (this.redirectTo) return res.writeHead(307, { Location: this.redirectTo }).end();
          if (!signatureValid) return res.writeHead(401).end();
          if (this.answer >= 200 && this.answer < 300) {
            const { to, body } = JSON.parse(raw.toString('utf8')) as CaughtSms;
            this.messages.push({ to, body });
            this.waiters.splice(0).forEach((w) => w());
          }
          res.writeHead(this.answer, { 'Content-Type': 'application/json' }).end('{"sid":"SM0"}');
        };
        if (this.delayMs) setTimeout(reply, this.delayMs);
        else reply();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/sms`;
  }

  /** Waits for an SMS to `to` that satisfies `match`, the way a user waits for their phone. */
  async waitFor(to: string, match: (m: CaughtSms) => boolean = () => true, timeoutMs = 10_000): Promise<CaughtSms> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => m.to === to && match(m));
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no SMS to ${to} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  to(phone: string): CaughtSms[] {
    return this.messages.filter((m) => m.to === phone);
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}
