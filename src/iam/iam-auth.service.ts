import { Injectable, Optional } from '@nestjs/common';
import { Metrics, NO_METRICS } from '../metrics/metrics';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AccessRevoker } from '../sessions/access-revoker.service';
import { AuthUser } from '../access/auth-user';
import { PasswordCheck } from '../auth/password-check.service';
import { SensitiveActions } from '../access/sensitive-actions.service';
import { DomainError, FieldError } from '../common/errors/domain-error';
import { PasswordHasher } from '../users/password-hasher';
import { describePasswordProblems, passwordProblems } from '../users/password-policy';
import { UsersService } from '../users/users.service';
import { IamTokensService, TokenView } from './iam-tokens.service';
import { ClientInfo } from '../access/client-info';

export interface PasswordChange {
  old_password?: string;
  password?: string;
  password2?: string;
  new_password?: string;
  reset_tokens?: boolean;
}

const invalid = (fields: FieldError[]) => new DomainError('VALIDATION_ERROR', 'Validation error.', fields);

@Injectable()
export class IamAuthService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly passwords: PasswordCheck,
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly tokens: IamTokensService,
    private readonly revoker: AccessRevoker,
    private readonly audit: AuditService,
    private readonly sensitive: SensitiveActions,
    @Optional() private readonly metrics: Metrics = NO_METRICS,
  ) {}

  async login(
    username: string,
    password: string,
    client: ClientInfo,
  ): Promise<{ user: { username: string }; token: Omit<TokenView, 'permanent' | 'space_id'> }> {
    const user = await this.passwords.verifyAlone(
      username,
      password,
      client,
      'Username and password do not match.',
      // IAM code 603: this surface cannot carry a second step (API.md 6).
      new DomainError('MFA_REQUIRED', 'Two-factor authentication is required for this account'),
    );
    const token = await this.tokens.create(user.id, false);
    this.metrics.signIn('password', 'success');
    await this.audit.record('login_success', {
      userId: user.id,
      ip: client.ip,
      details: { surface: 'iam', token_id: token.id },
    });
    return {
      user: { username: user.username ?? user.email },
      token: {
        id: token.id,
        key: token.key,
        is_active: token.is_active,
        created: token.created,
        expires: token.expires,
      },
    };
  }

  /**
   * Changes the password after checking the old one. With `reset_tokens`, every other credential of the
   * user ends at once (tokens, login sessions, key:token pairs); the one making the request keeps working.
   */
  async changePassword(caller: AuthUser, body: PasswordChange, client: ClientInfo): Promise<void> {
    const fields: FieldError[] = [];
    if (!body.old_password) fields.push({ name: 'old_password', message: 'This field is required.' });
    const next = body.new_password ?? body.password;
    if (!next)
      fields.push({
        name: body.new_password === undefined ? 'password' : 'new_password',
        message: 'This field is required.',
      });
    if (
      body.new_password === undefined &&
      body.password !== undefined &&
      body.password2 !== undefined &&
      body.password !== body.password2
    ) {
      fields.push({ name: 'password2', message: 'The two password fields did not match.' });
    }
    if (body.new_password === undefined && body.password !== undefined && body.password2 === undefined) {
      fields.push({ name: 'password2', message: 'This field is required.' });
    }
    if (fields.length) throw invalid(fields);

    const user = await this.users.getById(caller.id);
    if (!(await this.sensitive.proveCurrentPassword(user.id, body.old_password!)))
      throw invalid([{ name: 'old_password', message: 'Incorrect password.' }]);
    const problems = passwordProblems(next, { email: user.email, username: user.username });
    if (problems.length) {
      throw invalid([
        {
          name: body.new_password !== undefined ? 'new_password' : 'password',
          message: `${describePasswordProblems(problems)}.`,
        },
      ]);
    }
    await this.users.updatePasswordHash(user.id, await this.hasher.hash(next!));
    if (body.reset_tokens) {
      await this.revoker.resetCredentials(user.id, {
        sessionId: caller.sessionId,
        pairId: caller.scheme === 'basic' ? caller.credentialId : undefined,
        iamTokenId: caller.scheme === 'token' ? caller.credentialId : undefined,
      });
    }
    await this.audit.record('password_changed', {
      userId: user.id,
      ip: client.ip,
      details: { reset_tokens: body.reset_tokens === true },
    });
  }
}
