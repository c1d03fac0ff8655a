import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { createHmac, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { makePrivateDir, publishPrivateFile } from '../common/private-files';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { isE164, maskPhone } from './e164';

export interface SmsMessage {
  /** E.164: `+` and 8 to 15 digits (see `isE164`). */
  to: string;
  body: string;
}

/** An SMS that did not go out: the webhook answered non-2xx, timed out or could not be reached. */
export class SmsDeliveryError extends Error {
  constructor(
    message: string,
    /** The webhook's HTTP status, when it answered. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'SmsDeliveryError';
  }
}

/** `sha256=<hex HMAC-SHA256 of the exact body bytes>`, the X-Signature header of the webhook. */
export function signSmsPayload(secret: Buffer | string, payload: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(payload).digest('hex')}`;
}

/**
 * The one way out for SMS. With SMS_WEBHOOK_URL it POSTs `{"to", "body"}` to the webhook, signed with
 * an HMAC of the body; without it (development) each SMS is written to DATA_DIR/sms as a .txt file and
 * announced in the log without its body: SMS carry sign-in codes, and secrets never reach the log.
 *
 * No retry: a webhook that timed out or answered 5xx may still have handed the SMS to the carrier, and
 * a retry would send the code twice (and pay twice); while a gateway is down, retries would only
 * multiply the load on it. The caller sees the failure, and the user asks for a new code, which the
 * MFA rate limits bound.
 */
@Injectable()
export class SmsService implements OnApplicationShutdown {
  private readonly logger = new Logger('Sms');
  readonly mode: 'webhook' | 'file';
  private readonly dir: string;
  private readonly pending = new Set<Promise<void>>();
  private sequence = 0;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.dir = join(config.dataDir, 'sms');
    if (config.sms.webhookUrl && config.sms.webhookSecret) {
      this.mode = 'webhook';
    } else {
      this.mode = 'file';
      if (config.env === 'production')
        this.logger.warn('SMS_WEBHOOK_URL is not set: SMS is written to files, not sent');
    }
  }

  /**
   * Sends one SMS, or rejects (SmsDeliveryError) when the webhook does not take it. A `to` that is not
   * E.164 or an empty body is a programming error: callers validate the number first (`isE164`).
   */
  async send(message: SmsMessage): Promise<void> {
    if (!isE164(message.to))
      throw new TypeError('SmsService.send: `to` must be an E.164 number (+ and 8 to 15 digits)');
    if (typeof message.body !== 'string' || message.body === '') {
      throw new TypeError('SmsService.send: `body` must be a non-empty string');
    }
    const delivery = this.mode === 'webhook' ? this.post(message) : this.writeFile(message);
    this.pending.add(delivery);
    try {
      await delivery;
    } finally {
      this.pending.delete(delivery);
    }
  }

  private async post({ to, body }: SmsMessage): Promise<void> {
    const payload = Buffer.from(JSON.stringify({ to, body }), 'utf8');
    const { webhookUrl, webhookSecret, timeoutMs } = this.config.sms;
    let response: Response;
    try {
      response = await fetch(webhookUrl!, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Signature': signSmsPayload(webhookSecret!, payload) },
        body: payload,
        // A redirect would carry the signed code to an address nobody configured: it is a failure.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      throw new SmsDeliveryError(`SMS webhook ${describeFetchError(e, timeoutMs)}`);
    }
    // The answer's body is never read: a gateway may echo the message, code included, in its errors.
    await response.body?.cancel().catch(() => undefined);
    if (response.status < 200 || response.status > 299) {
      throw new SmsDeliveryError(`SMS webhook answered ${response.status}`, response.status);
    }
    this.logger.log({ to: maskPhone(to), status: response.status }, 'sms sent');
  }

  private async writeFile({ to, body }: SmsMessage): Promise<void> {
    // The directory is made private even if it existed before: the files hold live codes.
    await makePrivateDir(this.dir);
    // Sortable by name: the time, then a counter for the same millisecond, then a random part for
    // another instance writing to the same directory.
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const seq = String(this.sequence++ % 1_000_000).padStart(6, '0');
    const file = join(this.dir, `${stamp}-${seq}-${randomBytes(3).toString('hex')}.txt`);
    await publishPrivateFile(file, `To: ${to}\nDate: ${new Date().toUTCString()}\n\n${body}\n`);
    this.logger.log({ to: maskPhone(to), file }, 'sms written to file');
  }

  /**
   * For the health page: does the webhook answer? A HEAD request, unsigned and without a message, so
   * that nothing is sent; any answer below 500 (a receiver that takes only POST says 404 or 405) counts.
   */
  async check(timeoutMs = 3000): Promise<{ ok: boolean; mode: string; error?: string }> {
    if (this.mode === 'file') return { ok: true, mode: 'file' };
    try {
      const response = await fetch(this.config.sms.webhookUrl!, {
        method: 'HEAD',
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel().catch(() => undefined);
      if (response.status >= 500) return { ok: false, mode: 'webhook', error: `answered ${response.status}` };
      return { ok: true, mode: 'webhook' };
    } catch (e) {
      return { ok: false, mode: 'webhook', error: describeFetchError(e, timeoutMs) };
    }
  }

  /** SMS still on their way (a code sent after its request was answered) are let finish, or time out. */
  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}

/** What went wrong, in words that hold neither the URL (it may carry a key) nor the message. */
function describeFetchError(e: unknown, timeoutMs: number): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  return `unreachable: ${err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e)}`;
}
