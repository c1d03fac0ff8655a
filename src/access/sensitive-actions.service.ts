import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/errors/domain-error';
import { CounterStorage } from '../common/throttle/counter-storage';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { MailService } from '../mail/mail.service';
import { User } from '../users/entities/user.entity';
import { PasswordHasher } from '../users/password-hasher';
import { UsersService } from '../users/users.service';
import type { AuthedRequest, AuthUser } from './auth-user';
import type { SensitivePolicy } from './decorators';
import { isUuid } from '../common/identifiers';

/** What the guard leaves on a request whose sensitive action it let through: the interceptor mails after it. */
interface AllowedSensitiveAction {
  action: string;
  userId: string;
  targetId?: string;
}

export type RequestWithSensitive = AuthedRequest & { sensitiveAction?: AllowedSensitiveAction };

const SIGN_IN_REQUIRED_MESSAGE =
  'Sign in to change this: an API key, an IAM token or a key:token pair acts for you on data, but cannot change ' +
  'your account or how it is protected';

const STEP_UP_MESSAGE = 'Two-factor authentication is on: sign in again with your second factor to do this';
const TARGET_STEP_UP_MESSAGE =
  'That account has two-factor authentication on: sign in again with your own second factor to change it';

/**
 * The rule of API.md 12, in one place: which credential may take a sensitive action. The authentication
 * guard calls it for routes marked @Sensitive() (nothing is looked up for any other route); every refusal is
 * recorded as `sensitive_action_refused`, and every success is mailed to the account (`notify`).
 */
@Injectable()
export class SensitiveActions {
  private readonly logger = new Logger('SecurityNotice');

  constructor(
    private readonly users: UsersService,
    private readonly audit: AuditService,
    private readonly mail: MailService,
    private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly counters: CounterStorage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * The current password that a password change asks for (`current_password` of the key:token `PATCH /users`,
   * `old_password` of IAM) is a password guess like a login's, and the credential that sends it may be a
   * stolen key: each guess is counted against the account by one atomic increment before it is checked
   * (API.md 12), within RATE_LIMIT_LOGIN per account; a right one is given back. 429 with Retry-After beyond.
   */
  async proveCurrentPassword(userId: string, password: string): Promise<boolean> {
    const limit = this.config.rateLimits.login;
    const key = `password-guesses:${userId}`;
    await this.counters.take(key, limit, 'Too many wrong passwords for this account; try again later');
    const [row] = (await this.dataSource.query(`SELECT password_hash FROM users WHERE id = $1`, [userId])) as {
      password_hash: string | null;
    }[];
    const { ok } = await this.hasher.verify(row?.password_hash, password);
    if (ok && limit) await this.counters.decrement(key);
    return ok;
  }

  async check(user: AuthUser, policy: SensitivePolicy, req: RequestWithSensitive): Promise<void> {
    const targetId = policy.target ? (req.params as Record<string, string | undefined>)?.[policy.target] : undefined;
    // A malformed or unknown id is the handler's 404; nothing to protect here.
    const target = targetId && isUuid(targetId) ? await this.users.findByIdCached(targetId) : null;
    if (policy.when && !policy.when.applies(req, target)) return;
    const action = typeof policy.action === 'function' ? policy.action(req) : policy.action;
    if (user.kind !== 'sign-in' && policy.delegated !== 'allowed') {
      await this.refuse(
        user,
        req,
        action,
        'delegated_credential',
        new DomainError('SIGN_IN_REQUIRED', SIGN_IN_REQUIRED_MESSAGE),
      );
    }
    if (user.kind === 'sign-in' && user.aal !== 'aal2') {
      const self = await this.users.findByIdCached(user.id);
      if (self?.mfaEnabled) {
        await this.refuse(user, req, action, 'aal2_required', new DomainError('MFA_STEP_UP_REQUIRED', STEP_UP_MESSAGE));
      }
      if (target && target.id !== user.id && target.mfaEnabled) {
        await this.refuse(
          user,
          req,
          action,
          'target_has_mfa',
          new DomainError('MFA_STEP_UP_REQUIRED', TARGET_STEP_UP_MESSAGE),
        );
      }
    }
    req.sensitiveAction = {
      action,
      userId: user.id,
      ...(target && target.id !== user.id ? { targetId: target.id } : {}),
    };
  }

  private async refuse(
    user: AuthUser,
    req: AuthedRequest,
    action: string,
    reason: string,
    error: DomainError,
  ): Promise<never> {
    await this.audit.record('sensitive_action_refused', {
      userId: user.id,
      ip: req.ip,
      details: { action, reason, scheme: user.scheme, route: `${req.method} ${req.routeOptions?.url ?? ''}` },
    });
    throw error;
  }

  /**
   * Mails the account (and the other account an admin acted on) what changed, when, and from which IP and
   * browser (API.md 12). Nothing secret is in the mail. Sent after the answer; a failure is logged.
   */
  notify(userId: string, action: string, client: { ip?: string | null; userAgent?: string | null }, to?: string): void {
    void this.send(userId, action, client, to).catch((e: Error) =>
      this.logger.error(`security notice could not be sent: ${e.message}`),
    );
  }

  private async send(
    userId: string,
    action: string,
    client: { ip?: string | null; userAgent?: string | null },
    to?: string,
  ): Promise<void> {
    const user: User | null = to ? null : await this.users.findById(userId);
    const address = to ?? user?.email;
    if (!address) return;
    await this.mail.send(securityNotice(address, action, client));
  }
}

/** The mail of a sensitive action: what, when, from where; never a secret or a link that does something. */
export function securityNotice(
  to: string,
  action: string,
  client: { ip?: string | null; userAgent?: string | null },
): { to: string; subject: string; text: string } {
  const what = action.charAt(0).toUpperCase() + action.slice(1);
  return {
    to,
    subject: `Security notice: ${action}`,
    text:
      `${what}.\n\n` +
      `When: ${new Date().toISOString()}\n` +
      `From IP address: ${client.ip ?? 'unknown'}\n` +
      `Browser or client: ${(client.userAgent ?? 'unknown').slice(0, 200)}\n\n` +
      `If this was you, there is nothing to do. If it was not, reset your password at once ` +
      `("Forgot your password?" on the sign-in page) and tell your administrator.\n`,
  };
}
