import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DomainError } from '../common/errors/domain-error';
import { hasInvisibleCharacters, normalizeEmail } from '../common/identifiers';
import { hashSecret, newSecret, SECRET_PATTERN } from '../common/secrets';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { MailService } from '../mail/mail.service';
import { EmailVerificationsRepository } from './email-verifications.repository';
import { UserCache } from './user-cache';
import { BackgroundWork } from '../common/background';

const VERIFICATION_TTL_MS = 24 * 3_600_000;
const INVALID = 'This verification link is invalid, expired or already used';

/**
 * Email verification links: 256-bit tokens kept as hashes, valid 24 hours, used once. A resend
 * supersedes every older link of the user, so only the newest mail works.
 */
@Injectable()
export class EmailVerificationService implements OnApplicationShutdown {
  private readonly logger = new Logger('EmailVerification');
  private readonly background = new BackgroundWork(this.logger);

  constructor(
    private readonly repo: EmailVerificationsRepository,
    private readonly mail: MailService,
    private readonly cache: UserCache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Creates a link for the user inside the caller's transaction; the mail goes out with `send`. */
  async issue(m: EntityManager, userId: string): Promise<string> {
    await this.repo.supersedeOpen(userId, m);
    const token = newSecret();
    await this.repo.insert(userId, hashSecret(token), new Date(Date.now() + VERIFICATION_TTL_MS), m);
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
    await this.repo
      .transaction(async (m) => {
        const userId = await this.repo.take(hashSecret(token), m);
        if (!userId) throw new DomainError('INVALID_VERIFICATION_TOKEN', INVALID);
        await this.repo.markVerified(userId, m);
        return userId;
      })
      .then((userId) => this.cache.invalidate(userId));
  }

  /** Same answer for every address: the work happens after the response. */
  resend(email: string): void {
    this.background.run('verification resend', this.resendNow(normalizeEmail(email)));
  }

  /** Waits for the mail already promised to callers (and at shutdown, before the process ends). */
  settled(): Promise<void> {
    return this.background.settled();
  }

  /** Mail already promised to a caller goes out before the process ends. */
  onApplicationShutdown(): Promise<void> {
    return this.settled();
  }

  private async resendNow(email: string): Promise<void> {
    if (hasInvisibleCharacters(email)) return;
    const token = await this.repo.transaction(async (m) => {
      const userId = await this.repo.lockUnverified(email, m);
      return userId ? this.issue(m, userId) : null;
    });
    if (token) await this.send(email, token);
  }
}
