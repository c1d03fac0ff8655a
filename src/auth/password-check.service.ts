import { Injectable, Optional } from '@nestjs/common';
import type { ClientInfo } from '../access/client-info';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/errors/domain-error';
import { Metrics, NO_METRICS } from '../metrics/metrics';
import { User } from '../users/entities/user.entity';
import { PasswordHasher } from '../users/password-hasher';
import { UsersService } from '../users/users.service';

/** The first factor of every password sign-in, on every surface (API.md 1, 2, 3 and 4). */
@Injectable()
export class PasswordCheck {
  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly audit: AuditService,
    @Optional() private readonly metrics: Metrics = NO_METRICS,
  ) {}

  /**
   * Checks a password. An unknown account costs one argon2 verification too and gets the same answer,
   * so neither the body nor the time tells whether the account exists.
   */
  async verify(
    identifier: string,
    password: string,
    client: ClientInfo,
    wrongPairMessage = 'Invalid username or password',
  ): Promise<User> {
    const user = await this.users.findByLogin(identifier);
    const check = await this.hasher.verify(user?.passwordHash, password);
    if (!user || !check.ok) {
      this.metrics.signIn('password', user ? 'wrong_password' : 'unknown_user');
      await this.audit.record('login_failure', { userId: user?.id ?? null, ip: client.ip });
      throw new DomainError('INVALID_CREDENTIALS', wrongPairMessage);
    }
    if (!user.isActive) {
      this.metrics.signIn('password', 'disabled');
      await this.audit.record('login_failure', { userId: user.id, ip: client.ip, details: { reason: 'disabled' } });
      throw new DomainError('ACCOUNT_DISABLED', 'This account is disabled');
    }
    if (check.needsRehash) await this.users.updatePasswordHash(user.id, await this.hasher.hash(password));
    return user;
  }

  /**
   * A password check for the surfaces that issue a credential on one factor and cannot carry a second
   * step (key:token, IAM): a right password of a user with MFA on is refused with `refusal` (API.md 6).
   */
  async verifyAlone(
    identifier: string,
    password: string,
    client: ClientInfo,
    wrongPairMessage: string | undefined,
    refusal: DomainError,
  ): Promise<User> {
    const user = await this.verify(identifier, password, client, wrongPairMessage);
    if (user.mfaEnabled) {
      this.metrics.signIn('password', 'mfa_required');
      await this.audit.record('login_failure', {
        userId: user.id,
        ip: client.ip,
        details: { reason: 'mfa_required_on_single_factor_surface' },
      });
      throw refusal;
    }
    return user;
  }
}
