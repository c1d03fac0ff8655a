import { Injectable, Optional } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/errors/domain-error';
import { Metrics, NO_METRICS } from '../metrics/metrics';
import { PasswordHasher } from '../users/password-hasher';
import { Role } from '../common/roles';
import { PublicUser, toPublicUser, UsersService } from '../users/users.service';
import { AccessRevoker } from '../sessions/access-revoker.service';
import { AuthUser } from '../access/auth-user';
import { LoginSessionsService } from '../sessions/login-sessions.service';
import { RefreshTokensService } from '../sessions/refresh-tokens.service';
import { LoginBody, SessionIssuer } from '../sessions/session-issuer.service';
import { isUuid } from '../common/identifiers';
import type { ClientInfo } from '../access/client-info';
import { SignInService } from './sign-in.service';
import { PasswordCheck } from './password-check.service';

/** Roles a coordinator may create: the patient-side accounts of a study. */
const COORDINATOR_MAY_CREATE: Role[] = ['patient', 'caregiver'];
const PASSWORDLESS_ROLES: Role[] = ['patient', 'caregiver'];

@Injectable()
export class PortalAuthService {
  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordCheck,
    private readonly hasher: PasswordHasher,
    private readonly issuer: SessionIssuer,
    private readonly signIns: SignInService,
    private readonly refreshTokens: RefreshTokensService,
    private readonly sessions: LoginSessionsService,
    private readonly audit: AuditService,
    private readonly revoker: AccessRevoker,
    @Optional() private readonly metrics: Metrics = NO_METRICS,
  ) {}

  async login(
    identifier: string,
    password: string,
    options: { remember: boolean; setCookie: boolean },
    client: ClientInfo,
  ): Promise<LoginBody> {
    const user = await this.passwords.verify(identifier, password, client);
    return this.signIns.signIn(user, {
      method: 'password',
      remember: options.remember,
      setCookie: options.setCookie,
      surface: 'portal',
      ...client,
      audit: { remember: options.remember },
    });
  }

  async refresh(presented: unknown, client: ClientInfo): Promise<LoginBody> {
    const rotation = await this.refreshTokens.rotate(presented);
    if (rotation.kind === 'invalid' || rotation.kind === 'reused') this.metrics.refresh('portal', rotation.kind);
    if (rotation.kind === 'invalid') throw new DomainError('INVALID_TOKEN', 'Refresh token is invalid or has expired');
    if (rotation.kind === 'reused') {
      // A rotated token came back: someone holds a copy. End the whole session (RFC 9700 section 4.14.2).
      await this.sessions.revoke({ sessionId: rotation.sessionId }, 'refresh_reuse');
      await this.audit.record('refresh_reuse', {
        userId: rotation.userId,
        ip: client.ip,
        details: { session_id: rotation.sessionId },
      });
      throw new DomainError('INVALID_TOKEN', 'Refresh token was already used; the session has been revoked');
    }
    const user = await this.users.findByIdCached(rotation.userId);
    if (!user || !user.isActive) {
      this.metrics.refresh('portal', 'invalid');
      throw new DomainError('INVALID_TOKEN', 'Refresh token is invalid or has expired');
    }
    this.metrics.refresh('portal', 'success');
    const ttl = this.issuer.accessTtlSec(rotation.remember);
    return {
      ...this.issuer.accessBody(
        user,
        rotation.sessionId,
        ttl,
        // A refresh keeps the assurance of the sign-in (API.md 6), never raises it.
        {
          amr: rotation.amr,
          aal: rotation.aal === 2 ? 2 : 1,
          authTime: Math.floor(rotation.signedInAt.getTime() / 1000),
        },
        rotation.method === 'clinical' ? { userId: user.id } : {},
      ),
      refresh_token: rotation.token,
    };
  }

  async logout(caller: AuthUser, client: ClientInfo): Promise<void> {
    if (!caller.sessionId) {
      throw new DomainError(
        'BAD_REQUEST',
        'This credential has no login session; revoke the credential itself instead',
      );
    }
    await this.sessions.revoke({ sessionId: caller.sessionId }, 'logout');
    await this.audit.record('logout', { userId: caller.id, ip: client.ip, details: { session_id: caller.sessionId } });
  }

  /**
   * Ends every login session (with its refresh tokens), key:token pair and temporary IAM token of the caller,
   * the one in use included; with `includeKeys`, API keys and permanent IAM tokens too (API.md 12).
   */
  async logoutAll(caller: AuthUser, client: ClientInfo, includeKeys = false): Promise<void> {
    const ended = await this.revoker.endCredentials(caller.id, 'logout_all', { keys: includeKeys });
    await this.audit.record('logout_all', {
      userId: caller.id,
      ip: client.ip,
      details: {
        include_keys: includeKeys,
        sessions: ended.sessions,
        key_token_pairs: ended.pairs,
        iam_tokens: ended.iamTokens,
        api_keys: ended.apiKeys,
      },
    });
  }

  async revokeSession(caller: AuthUser, sessionId: string, client: ClientInfo): Promise<void> {
    const n = isUuid(sessionId) ? await this.sessions.revoke({ sessionId, userId: caller.id }, 'revoked_by_user') : 0;
    if (n === 0) throw new DomainError('NOT_FOUND', 'Session not found');
    await this.audit.record('session_revoked', {
      userId: caller.id,
      ip: client.ip,
      details: { session_id: sessionId },
    });
  }

  /** Admins create any role; coordinators create patients and caregivers, who may be passwordless. */
  async register(
    caller: AuthUser,
    input: {
      email: string;
      password?: string;
      role: Role;
      username?: string;
      first_name?: string;
      last_name?: string;
      title?: string;
      specialty?: string;
      ehr_system_type?: string;
      ehr_system_name?: string;
    },
    client: ClientInfo,
  ): Promise<PublicUser> {
    if (caller.role !== 'admin' && !(caller.role === 'coordinator' && COORDINATOR_MAY_CREATE.includes(input.role))) {
      throw new DomainError('FORBIDDEN', 'You may not create users with this role');
    }
    if (!input.password && !PASSWORDLESS_ROLES.includes(input.role)) {
      throw new DomainError('VALIDATION_ERROR', 'Invalid input data', [
        { name: 'password', message: `a password is required for the ${input.role} role` },
      ]);
    }
    const user = await this.users.create({
      email: input.email,
      password: input.password ?? null,
      role: input.role,
      username: input.username,
      firstName: input.first_name,
      lastName: input.last_name,
      title: input.title,
      specialty: input.specialty,
      ehrSystemType: input.ehr_system_type,
      ehrSystemName: input.ehr_system_name,
    });
    await this.audit.record('user_registered', {
      userId: user.id,
      actorId: caller.id,
      ip: client.ip,
      details: { role: user.role },
    });
    return toPublicUser(user);
  }
}
