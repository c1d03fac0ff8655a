import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { LoginBody } from '../sessions/session-issuer.service';
import { DomainError } from '../common/errors/domain-error';
import { hasInvisibleCharacters, normalizeEmail } from '../common/identifiers';
import { hashSecret, newSecret, SECRET_PATTERN } from '../common/secrets';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { MailService } from '../mail/mail.service';
import { UserCache } from '../users/user-cache';
import { ClientInfo } from '../access/client-info';
import { SignInService } from '../auth/sign-in.service';
import { MagicLinksRepository } from './magic-links.repository';
import { BackgroundWork } from '../common/background';

const INVALID = 'This sign-in link is invalid, expired or already used';

/**
 * Passwordless sign-in for patients and caregivers. A link is a 256-bit token kept only as a hash; it works once (one conditional
 * UPDATE) within MAGIC_LINK_TTL. Several links may be outstanding at once: asking for a new one does not
 * cancel an older one that has not expired, so a mail that arrives late still works.
 */
@Injectable()
export class MagicLinkService implements OnApplicationShutdown {
  private readonly logger = new Logger('MagicLink');
  /** Deliveries started after the response; awaited at shutdown and by tests. */
  private readonly background = new BackgroundWork(this.logger);

  constructor(
    private readonly links: MagicLinksRepository,
    private readonly mail: MailService,
    private readonly signIns: SignInService,
    private readonly cache: UserCache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Answers at once, identically for every address; the lookup and the mail happen afterwards, so the
   * response time says nothing about whether the account exists, nor about its role.
   */
  request(email: string, client: ClientInfo): void {
    this.background.run('magic link delivery', this.deliver(normalizeEmail(email), client));
  }

  /** Waits for the mail already promised to callers (and at shutdown, before the process ends). */
  settled(): Promise<void> {
    return this.background.settled();
  }

  onApplicationShutdown(): Promise<void> {
    return this.settled();
  }

  private async deliver(email: string, client: ClientInfo): Promise<void> {
    if (hasInvisibleCharacters(email)) return;
    const user = await this.links.linkableUser(email);
    if (!user) return;
    const token = newSecret();
    await this.links.insert(user.id, hashSecret(token), new Date(Date.now() + this.config.ttlMs.magicLink));
    const minutes = Math.round(this.config.ttlMs.magicLink / 60_000);
    const link = `${this.config.portalUrl}/auth?token=${token}`;
    await this.mail.send({
      to: user.email,
      subject: 'Your sign-in link',
      text:
        `Hello,\n\nuse this link to sign in:\n\n${link}\n\n` +
        `It works once and expires in ${minutes} minutes. If you did not ask for it, ignore this mail.\n`,
      html:
        `<p>Hello,</p><p><a href="${link}">Sign in</a></p>` +
        `<p>The link works once and expires in ${minutes} minutes. If you did not ask for it, ignore this mail.</p>`,
    });
    this.logger.log({ userId: user.id, ip: client.ip }, 'magic link sent');
  }

  /** Whether a token names a live link, without using it up (the strategy's check). */
  async isLive(token: string): Promise<boolean> {
    if (!SECRET_PATTERN.test(token)) return false;
    return this.links.isLive(hashSecret(token));
  }

  /**
   * Uses the link and opens a login session in one transaction: two clicks racing get one session,
   * and a failure leaves the link unused. A first sign-in by link also verifies the address.
   */
  async verify(token: string, client: ClientInfo): Promise<LoginBody> {
    if (!SECRET_PATTERN.test(token)) throw new DomainError('INVALID_TOKEN', INVALID);
    const result = await this.links.transaction(async (m) => {
      const userId = await this.links.take(hashSecret(token), m);
      if (!userId) throw new DomainError('INVALID_TOKEN', INVALID);
      const user = await this.links.verifiedUser(userId, m);
      // The link is spent even when a second step follows: MFA_REQUIRED is thrown after the commit.
      return this.signIns.signInOrChallenge(
        user,
        { method: 'magic_link', surface: 'portal', ...client, audit: { method: 'magic_link' } },
        m,
      );
    });
    if (result instanceof DomainError) throw result;
    this.cache.invalidate(result.user.id);
    return result;
  }
}
