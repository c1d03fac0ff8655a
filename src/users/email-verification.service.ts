import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError } from '../common/errors/domain-error';
import { hasInvisibleCharacters, normalizeEmail } from '../common/identifiers';
import { hashSecret, newSecret, SECRET_PATTERN } from '../common/secrets';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { MailService } from '../mail/mail.service';
import { UserCache } from './user-cache';

const VERIFICATION_TTL_MS = 24 * 3_600_000;
const INVALID = 'This verification link is invalid, expired or already used';

/**
 * Email verification links: 256-bit tokens kept as hashes, valid 24 hours, used once. A resend
 * supersedes every older link of the user, so only the newest mail works.
 */
@Injectable()
export class EmailVerificationService implements OnApplicationShutdown {
  private readonly logger = new Logger('EmailVerification');
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly mail: MailService,
    private readonly cache: UserCache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Creates a link for the user inside the caller's transaction; the mail goes out with `send`. */
  async issue(m: EntityManager, userId: string): Promise<string> {
    await m.query(
      `UPDATE email_verifications SET superseded_at = now() WHERE user_id = $1 AND used_at IS NULL AND superseded_at IS NULL`,
      [userId],
    );
    const token = newSecret();
    await m.query(`INSERT INTO email_verifications (user_id, token_hash, expires_at) VALUES ($1, $2, $3)`, [
      userId,
      hashSecret(token),
      new Date(Date.now() + VERIFICATION_TTL_MS),
    ]);
    return token;
  }

  async send(email: string, token: string): Promise<void> {
    const link = `${this.config.appUrl}/api/verification/verify?token=${token}`;
    await this.mail.send({
      to: email,
      subject: 'Verify your email address',
      text: `Welcome,\n\nplease confirm your email address:\n\n${link}\n\nThe link works once and expires in 24 hours.\n`,
      html: `<p>Welcome,</p><p><a href="${link}">Confirm your email address</a></p><p>The link works once and expires in 24 hours.</p>`,
    });
  }

  async verify(token: unknown): Promise<void> {
    if (typeof token !== 'string' || !SECRET_PATTERN.test(token))
      throw new DomainError('INVALID_VERIFICATION_TOKEN', INVALID);
    await this.dataSource
      .transaction(async (m) => {
        const [rows] = (await m.query(
          `UPDATE email_verifications SET used_at = now()
          WHERE token_hash = $1 AND used_at IS NULL AND superseded_at IS NULL AND expires_at > now()
          RETURNING user_id`,
          [hashSecret(token)],
        )) as [{ user_id: string }[], number];
        if (!rows.length) throw new DomainError('INVALID_VERIFICATION_TOKEN', INVALID);
        await m.query(`UPDATE users SET email_verified = true WHERE id = $1`, [rows[0].user_id]);
        return rows[0].user_id;
      })
      .then((userId) => this.cache.invalidate(userId));
  }

  /** Same answer for every address: the work happens after the response. */
  resend(email: string): void {
    const job = this.resendNow(normalizeEmail(email))
      .catch((e: Error) => this.logger.error(`verification resend failed: ${e.message}`))
      .finally(() => this.pending.delete(job));
    this.pending.add(job);
  }

  async settled(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  /** Mail already promised to a caller goes out before the process ends. */
  onApplicationShutdown(): Promise<void> {
    return this.settled();
  }

  private async resendNow(email: string): Promise<void> {
    if (hasInvisibleCharacters(email)) return;
    const token = await this.dataSource.transaction(async (m) => {
      const [user] = (await m.query(
        `SELECT id FROM users WHERE email = $1 AND is_active AND NOT email_verified FOR UPDATE`,
        [email],
      )) as { id: string }[];
      return user ? this.issue(m, user.id) : null;
    });
    if (token) await this.send(email, token);
  }
}
