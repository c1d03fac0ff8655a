import { Secret, TOTP } from 'otpauth';

/**
 * An authenticator app, as a person's phone is one: it knows the secret the page showed, and gives
 * the code of the moment. The service takes a code once and only for a later time step than the last
 * one it took (API.md 6, no replay), with one step of drift: the app hands out the earliest step the
 * service will still take, and waits for the clock when it has used the latest.
 */
export class AuthenticatorApp {
  private readonly totp: TOTP;
  private lastStep = -Infinity;

  constructor(secret: string) {
    this.totp = new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });
  }

  async code(): Promise<string> {
    for (;;) {
      const now = Math.floor(Date.now() / 30_000);
      const step = Math.max(this.lastStep + 1, now - 1);
      // A step one behind the clock is only safe while the clock is not about to move on.
      const safe = step > now || step === now || Date.now() % 30_000 < 25_000;
      if (step <= now + 1 && safe) {
        this.lastStep = step;
        return this.totp.generate({ timestamp: step * 30_000 });
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** A code that is certainly wrong now (the one of ten steps ago). */
  wrongCode(): string {
    return this.totp.generate({ timestamp: Date.now() - 300_000 });
  }
}
