import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LoginBody } from '../sessions/session-issuer.service';
import { DomainError } from '../common/errors/domain-error';
import { hasInvisibleCharacters, normalizeEmail } from '../common/identifiers';
import { hashSecret, newSecret, SECRET_PATTERN } from '../common/secrets';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { MailService } from '../mail/mail.service';
import { User } from '../users/entities/user.entity';
import { Role } from '../common/roles';
import { UserCache } from '../users/user-cache';
import { ClientInfo } from '../access/client-info';
import { SignInService } from '../auth/sign-in.service';

const INVALID = 'This sign-in link is invalid, expired or already used';

/**
 * The roles a link signs in (API.md 1.2). Every other role has a password, and a link would let whoever
 * reads that mailbox in without it: an admin's mailbox would be an admin account. Checked when a link
 * is sent and again when it is used, so a link mailed before a role change (or before the account was
 * disabled) opens nothing.
 */
export const MAGIC_LINK_ROLES: readonly Role[] = ['patient', 'caregiver'];
const MAY_USE_LINK = `u.is_active AND u.role IN (${MAGIC_LINK_ROLES.map((r) => `'${r}'`).join(', ')})`;

/**
 * Passwordless sign-in for patients and caregivers. A link is a 256-bit token kept only as a hash; it works once (one conditional
 * UPDATE) within MAGIC_LINK_TTL. Several links may be outstanding at once: asking for a new one does not
 * cancel an older one that has not expired, so a mail that arrives late still works.
 */
@Injectable()
export class MagicLinkService {
  private readonly logger = new Logger('MagicLink');
  /** Deliveries started after the response; awaited at shutdown and by tests. */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly dataSource: DataSource,
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
    const job = this.deliver(normalizeEmail(email), client)
      .catch((e: Error) => this.logger.error(`magic link delivery failed: ${e.message}`))
      .finally(() => this.pending.delete(job));
    this.pending.add(job);
  }

  async settled(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  private async deliver(email: string, client: ClientInfo): Promise<void> {
    if (hasInvisibleCharacters(email)) return;
    const [user] = (await this.dataSource.query(
      `SELECT id, email FROM users u WHERE u.email = $1 AND ${MAY_USE_LINK}`,
      [email],
    )) as { id: string; email: string }[];
    if (!user) return;
    const token = newSecret();
    await this.dataSource.query(`INSERT INTO magic_links (user_id, token_hash, expires_at) VALUES ($1, $2, $3)`, [
      user.id,
      hashSecret(token),
      new Date(Date.now() + this.config.ttlMs.magicLink),
    ]);
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
    const rows: unknown[] = await this.dataSource.query(
      `SELECT 1 FROM magic_links m JOIN users u ON u.id = m.user_id
        WHERE m.token_hash = $1 AND m.used_at IS NULL AND m.expires_at > now() AND ${MAY_USE_LINK}`,
      [hashSecret(token)],
    );
    return rows.length > 0;
  }

  /**
   * Uses the link and opens a login session in one transaction: two clicks racing get one session,
   * and a failure leaves the link unused. A first sign-in by link also verifies the address.
   */
  async verify(token: string, client: ClientInfo): Promise<LoginBody> {
    if (!SECRET_PATTERN.test(token)) throw new DomainError('INVALID_TOKEN', INVALID);
    const result = await this.dataSource.transaction(async (m) => {
      const [rows] = (await m.query(
        `UPDATE magic_links ml SET used_at = now()
           FROM users u
          WHERE ml.token_hash = $1 AND ml.used_at IS NULL AND ml.expires_at > now()
            AND u.id = ml.user_id AND ${MAY_USE_LINK}
          RETURNING ml.user_id`,
        [hashSecret(token)],
      )) as [{ user_id: string }[], number];
      if (!rows.length) throw new DomainError('INVALID_TOKEN', INVALID);
      await m.query(`UPDATE users SET email_verified = true WHERE id = $1 AND NOT email_verified`, [rows[0].user_id]);
      const user = await m.getRepository(User).findOneByOrFail({ id: rows[0].user_id });
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
