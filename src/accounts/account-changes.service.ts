import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/errors/domain-error';
import { hasInvisibleCharacters, normalizeEmail } from '../common/identifiers';
import { hashSecret, newSecret, SECRET_PATTERN } from '../common/secrets';
import { CounterStorage } from '../common/throttle/counter-storage';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { MailService } from '../mail/mail.service';
import { PasswordHasher } from '../users/password-hasher';
import { describePasswordProblems, passwordProblems } from '../users/password-policy';
import { UsersService } from '../users/users.service';
import { AccessRevoker } from '../sessions/access-revoker.service';
import { SensitiveActions } from '../access/sensitive-actions.service';
import { type ClientInfo } from '../access/client-info';
import { AccountChangesRepository } from './account-changes.repository';
import { BackgroundWork } from '../common/background';

/** A reset link lives 30 minutes; an email-change link 24 hours (API.md 12). */
const PASSWORD_RESET_TTL_SEC = 30 * 60;
const EMAIL_CHANGE_TTL_SEC = 24 * 3600;

const INVALID_RESET = 'This reset link is invalid, expired or already used: ask for a new one';
const INVALID_CHANGE = 'This confirmation link is invalid, expired or already used';

/**
 * The two account changes that go through a mailbox (API.md 12): a forgotten password (a link to the
 * account's address) and a new email address (a link to the new address). Both links are 256-bit tokens
 * kept as hashes, used once by one conditional UPDATE, and a newer link replaces an older one.
 */
@Injectable()
export class AccountChangesService implements OnApplicationShutdown {
  private readonly logger = new Logger('AccountChanges');
  /** Deliveries started after the response; awaited at shutdown and by tests. */
  private readonly background = new BackgroundWork(this.logger);

  constructor(
    private readonly repo: AccountChangesRepository,
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly revoker: AccessRevoker,
    private readonly mail: MailService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly counters: CounterStorage,
    private readonly sensitive: SensitiveActions,
  ) {}

  /**
   * Answers at once and identically for every address (no enumeration, same timing): the lookup, the link
   * and the mail happen after the answer. Only an active user with a password gets a link.
   */
  forgotPassword(email: string, client: ClientInfo): void {
    this.background.run('password reset delivery', this.sendReset(normalizeEmail(email), client));
  }

  /** Waits for the mail already promised to callers (and at shutdown, before the process ends). */
  settled(): Promise<void> {
    return this.background.settled();
  }

  onApplicationShutdown(): Promise<void> {
    return this.settled();
  }

  private async sendReset(email: string, client: ClientInfo): Promise<void> {
    if (hasInvisibleCharacters(email)) return;
    const user = await this.repo.resettableUser(email);
    if (!user) return;
    // Per address too, whatever the IP (API.md 12): the route's limit counts per IP and address, so many IPs
    // could still fill one mailbox with links. Beyond RATE_LIMIT_MAGIC_LINK per address the answer stays the
    // same 202 (no enumeration, and no way to lock a person out of the form); only the mail is not sent.
    const limit = this.config.rateLimits.magicLink;
    if (
      limit &&
      (await this.counters.increment(`password-reset-mails:${user.id}`, limit.ttlMs, limit.limit)).isBlocked
    ) {
      this.logger.warn(`password reset mail not sent: more than ${limit.limit} asked for one account in the window`);
      return;
    }
    const token = newSecret();
    // A newer link replaces the older ones: they stop working the moment this one is made.
    await this.repo.transaction(async (m) => {
      await this.repo.endOpenResets(user.id, m);
      await this.repo.insertReset(user.id, hashSecret(token), PASSWORD_RESET_TTL_SEC, m);
    });
    await this.audit.record('password_reset_requested', { userId: user.id, ip: client.ip });
    const link = `${this.config.portalUrl}/reset?token=${token}`;
    await this.mail.send({
      to: user.email,
      subject: 'Reset your password',
      text:
        `Hello,\n\nsomeone (we hope you) asked to reset the password of this account. Choose a new one here:\n\n` +
        `${link}\n\nThe link works once and expires in ${PASSWORD_RESET_TTL_SEC / 60} minutes; a newer request ` +
        `replaces it. If you did not ask for it, ignore this mail: your password stays as it is.\n` +
        `Asked from IP address ${client.ip ?? 'unknown'}.\n`,
    });
  }

  /**
   * Sets a new password with a reset link: single use, then every credential of the user ends (sessions,
   * refresh tokens, key:token pairs, IAM tokens, API keys) and the address is told. It signs nobody in, so a
   * user with MFA on still needs the second factor next time. Opening the link proves the mailbox, so the
   * address counts as verified from then on.
   */
  async resetPassword(token: unknown, password: unknown, client: ClientInfo): Promise<void> {
    if (typeof password !== 'string') {
      throw new DomainError('VALIDATION_ERROR', 'Invalid input data', [
        { name: 'password', message: 'password is required' },
      ]);
    }
    if (typeof token !== 'string' || !SECRET_PATTERN.test(token)) throw new DomainError('INVALID_TOKEN', INVALID_RESET);
    const hash = hashSecret(token);
    // The policy is checked before the link is spent, so that a weak password does not cost the person the link.
    const pending = await this.repo.pendingReset(hash);
    if (!pending) throw new DomainError('INVALID_TOKEN', INVALID_RESET);
    const problems = passwordProblems(password, { email: pending.email, username: pending.username });
    if (problems.length) {
      throw new DomainError('VALIDATION_ERROR', describePasswordProblems(problems), [
        { name: 'password', message: describePasswordProblems(problems) },
      ]);
    }
    const passwordHash = await this.hasher.hash(password);
    const userId = await this.repo.transaction(async (m) => {
      const taken = await this.repo.takeReset(hash, m);
      if (!taken) throw new DomainError('INVALID_TOKEN', INVALID_RESET);
      await this.repo.setPasswordVerified(taken, passwordHash, m);
      return taken;
    });
    const ended = await this.revoker.endCredentials(userId, 'password_reset', { keys: true });
    await this.revoker.userChanged(userId, 'password_reset', { keepSessions: true });
    await this.audit.record('password_reset', {
      userId,
      ip: client.ip,
      details: {
        sessions: ended.sessions,
        key_token_pairs: ended.pairs,
        iam_tokens: ended.iamTokens,
        api_keys: ended.apiKeys,
      },
    });
    this.sensitive.notify(
      pending.id,
      'your password was reset, and every sign-in and key of your account was ended',
      client,
      pending.email,
    );
  }

  /**
   * A new address asked for (the key:token `PATCH /users`): the change waits for the link mailed to the new
   * address (24 hours, once); a newer request replaces an older one. The address must be free now, and again
   * when the link is opened.
   */
  async requestEmailChange(userId: string, newEmail: string, client: ClientInfo): Promise<string> {
    const email = this.users.acceptableEmail(newEmail);
    if (await this.repo.emailTakenByOther(email, userId))
      throw new DomainError('EMAIL_EXISTS', 'That email is already taken');
    const token = newSecret();
    await this.repo.transaction(async (m) => {
      await this.repo.endOpenEmailChanges(userId, m);
      await this.repo.insertEmailChange(userId, email, hashSecret(token), EMAIL_CHANGE_TTL_SEC, m);
    });
    await this.audit.record('email_change_requested', { userId, ip: client.ip, details: { new_email: email } });
    const link = `${this.config.appUrl}/api/auth/email/confirm?token=${token}`;
    await this.mail.send({
      to: email,
      subject: 'Confirm your new email address',
      text:
        `Hello,\n\nto make this the address of your account, open this link:\n\n${link}\n\n` +
        `It works once and expires in 24 hours. If you did not ask for it, ignore this mail.\n`,
    });
    return email;
  }

  /** The address waiting for its link, if any (shown as `pending_email`). */
  async pendingEmail(userId: string): Promise<string | null> {
    return this.repo.pendingEmail(userId);
  }

  /** Opens an email-change link: the address changes (verified, since the link reached it); the old one is told. */
  async confirmEmailChange(token: unknown, client: ClientInfo): Promise<{ email: string }> {
    if (typeof token !== 'string' || !SECRET_PATTERN.test(token))
      throw new DomainError('INVALID_TOKEN', INVALID_CHANGE);
    const outcome = await this.repo.transaction(async (m) => {
      const change = await this.repo.takeEmailChange(hashSecret(token), m);
      if (!change) throw new DomainError('INVALID_TOKEN', INVALID_CHANGE);
      const { user_id: userId, new_email: email } = change;
      const oldEmail = await this.repo.lockEmail(userId, m);
      try {
        await this.repo.setEmailVerified(userId, email, m);
      } catch (e) {
        const translated = this.users.translateUnique(e);
        if (translated instanceof DomainError) throw new DomainError('CONFLICT', 'That email is already taken');
        throw translated;
      }
      return { userId, email, oldEmail };
    });
    await this.revoker.userChanged(outcome.userId, 'email_changed', { keepSessions: true });
    await this.audit.record('email_changed', {
      userId: outcome.userId,
      ip: client.ip,
      details: { old_email: outcome.oldEmail, new_email: outcome.email },
    });
    this.sensitive.notify(
      outcome.userId,
      `the email address of your account was changed to ${outcome.email}`,
      client,
      outcome.oldEmail,
    );
    return { email: outcome.email };
  }
}
