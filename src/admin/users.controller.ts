import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Query, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsDateString, IsIn, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { AuditService } from '../audit/audit.service';
import { AccessRevoker } from '../sessions/access-revoker.service';
import { type AuthUser } from '../access/auth-user';
import { CurrentUser, Roles, Sensitive } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { Page, PageQuery, toBool } from '../common/dto/query';
import { ROLES, type Role, SUBSCRIPTION_STATUSES, type SubscriptionStatus } from '../common/roles';
import { PublicUser, toPublicUser, UsersService } from '../users/users.service';
import { DomainError } from '../common/errors/domain-error';
import { MfaService, MfaStatus } from '../mfa/mfa.service';
import { trim } from '../common/dto/query';
import { LiveSession, LoginSessionsService } from '../sessions/login-sessions.service';
import { isUuid } from '../common/identifiers';
import { UserPageResponse, UserResponse } from '../users/users.responses';
import { AdminUserResponse } from '../mfa/mfa.responses';
import { LoginSessionResponse } from '../auth/auth.responses';
import { ApiErrors } from '../common/errors/error-responses';

class ListUsersQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ROLES })
  @IsOptional()
  @IsIn(ROLES as unknown as string[])
  role?: Role;

  @ApiPropertyOptional({
    description: 'only users whose email address contains this text, ignoring case (added for the admin console)',
    example: 'example.org',
  })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MaxLength(254)
  email?: string;
}

/** One user as the admin console shows it: the public view and the state of the user's second factors. */
export interface AdminUserView extends PublicUser {
  mfa: MfaStatus;
}

class ChangeRoleDto {
  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES as unknown as string[], { message: `role must be one of ${ROLES.join(', ')}` })
  role!: Role;
}

class SetActiveDto {
  @ApiProperty()
  @Transform(toBool)
  @IsBoolean()
  is_active!: boolean;
}

class SubscriptionDto {
  @ApiProperty({ enum: SUBSCRIPTION_STATUSES })
  @IsIn(SUBSCRIPTION_STATUSES as unknown as string[])
  status!: SubscriptionStatus;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'ISO 8601; past it the subscription counts as none. null: open-ended',
    nullable: true,
  })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsDateString({ strict: true })
  ends_at?: string | null;
}

@ApiTags('portal: admin')
@ApiBearerAuth()
@ErrorDialect('portal')
@Roles(['admin'])
@Controller('api/users')
@ApiErrors('portal')
export class AdminUsersController {
  constructor(
    private readonly users: UsersService,
    private readonly revoker: AccessRevoker,
    private readonly audit: AuditService,
    private readonly mfa: MfaService,
    private readonly sessions: LoginSessionsService,
  ) {}

  @Delete(':id/mfa')
  @Sensitive({ action: 'two-factor authentication was reset by an administrator', target: 'id' })
  @HttpCode(204)
  @ApiOperation({
    operationId: 'admin.users.mfa.reset',
    summary: "Reset a user's two-factor authentication (admin): every factor and recovery code goes, and the sessions",
    description:
      'For a user who lost every factor. Needs the admin at aal2 when the admin has MFA on. Unknown user: 404.',
  })
  async resetMfa(@CurrentUser() actor: AuthUser, @Param('id') id: string, @Req() req: FastifyRequest): Promise<void> {
    if (!isUuid(id) || !(await this.mfa.reset(id, actor.id, req.ip))) {
      throw new DomainError('NOT_FOUND', 'User not found');
    }
    await this.revoker.userChanged(id, 'mfa_reset');
  }

  @Get()
  @ApiOperation({
    operationId: 'admin.users.list',
    summary: 'Users, oldest first, paginated; filter by role and by part of the email address (admin)',
  })
  @ApiOkResponse({ type: UserPageResponse, example: { items: [], total: 0, page: 1, limit: 20 } })
  list(@Query() q: ListUsersQuery): Promise<Page<PublicUser>> {
    return this.users.list({ page: q.page, limit: q.limit, role: q.role, email: q.email || undefined });
  }

  @Get(':id')
  @ApiOperation({
    operationId: 'admin.users.get',
    summary: 'One user with the state of their two-factor authentication (admin; added for the admin console)',
    description:
      'The public user, plus `mfa`: enabled, the confirmed factors (never a secret) and recovery codes left. Unknown: 404.',
  })
  @ApiOkResponse({
    type: AdminUserResponse,
    example: {
      id: '0b6f...',
      email: 'ada@example.org',
      role: 'researcher',
      is_active: true,
      mfa: { enabled: true, factors: [{ id: '5c1e...', type: 'totp', name: 'Phone' }], recovery_codes_left: 10 },
    },
  })
  async get(@Param('id') id: string): Promise<AdminUserView> {
    const user = await this.users.getById(id);
    return { ...toPublicUser(user), mfa: await this.mfa.status(user.id) };
  }

  @Get(':id/sessions')
  @ApiOperation({
    operationId: 'admin.users.sessions.list',
    summary: "A user's live login sessions, newest first (admin; added for the admin console)",
    description: 'The same items as GET /api/auth/sessions; `current` is always false here. Unknown user: 404.',
  })
  @ApiOkResponse({ type: [LoginSessionResponse] })
  async listSessions(@Param('id') id: string): Promise<LiveSession[]> {
    const user = await this.users.getById(id);
    return this.sessions.listLive(user.id);
  }

  @Delete(':id/sessions')
  @Sensitive({ action: 'every session was ended by an administrator', target: 'id' })
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiOperation({
    operationId: 'admin.users.sessions.revokeAll',
    summary: 'End every login session of a user at once (admin; added for the admin console)',
    description: 'Their access tokens are refused from the next request on. Unknown user: 404.',
  })
  async revokeSessions(
    @CurrentUser() actor: AuthUser,
    @Param('id') id: string,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    const user = await this.users.getById(id);
    const ended = await this.sessions.revoke({ userId: user.id }, 'revoked_by_admin');
    await this.recordRevoked(user.id, actor, req, { sessions: ended });
  }

  @Delete(':id/sessions/:sessionId')
  @Sensitive({ action: 'a session was ended by an administrator', target: 'id' })
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiOperation({
    operationId: 'admin.users.sessions.revoke',
    summary: 'End one login session of a user (admin; added for the admin console)',
    description: 'Unknown user, unknown or ended session, or a session of another user: 404.',
  })
  async revokeSession(
    @CurrentUser() actor: AuthUser,
    @Param('id') id: string,
    @Param('sessionId') sessionId: string,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    const user = await this.users.getById(id);
    const ended = isUuid(sessionId)
      ? await this.sessions.revoke({ userId: user.id, sessionId }, 'revoked_by_admin')
      : 0;
    if (ended === 0) throw new DomainError('NOT_FOUND', 'Session not found');
    await this.recordRevoked(user.id, actor, req, { session_id: sessionId });
  }

  @Patch(':id/role')
  @Sensitive({
    action: 'a role was changed by an administrator',
    target: 'id',
    when: {
      describe: 'to or from admin',
      applies: (req, target) =>
        (req.body as { role?: unknown } | undefined)?.role === 'admin' || target?.role === 'admin',
    },
  })
  @ApiOperation({
    operationId: 'admin.users.changeRole',
    summary:
      "Change a user's role (admin). The user's sessions are revoked at once; the last active admin cannot be demoted (409).",
  })
  @ApiOkResponse({ type: UserResponse })
  async changeRole(
    @CurrentUser() actor: AuthUser,
    @Param('id') id: string,
    @Body() body: ChangeRoleDto,
    @Req() req: FastifyRequest,
  ): Promise<PublicUser> {
    const { before, after } = await this.users.changeRole(id, body.role);
    if (before.role !== after.role) {
      await this.revoker.userChanged(id, 'role_change');
      await this.audit.record('role_changed', {
        userId: id,
        actorId: actor.id,
        ip: req.ip,
        details: { from: before.role, to: after.role },
      });
    }
    return toPublicUser(after);
  }

  @Patch(':id/subscription')
  @ApiOperation({
    operationId: 'admin.users.setSubscription',
    summary: "Set a user's subscription status and end date (admin)",
  })
  @ApiOkResponse({ type: UserResponse })
  async setSubscription(
    @CurrentUser() actor: AuthUser,
    @Param('id') id: string,
    @Body() body: SubscriptionDto,
    @Req() req: FastifyRequest,
  ): Promise<PublicUser> {
    const user = await this.users.setSubscription(id, body.status, body.ends_at ? new Date(body.ends_at) : null);
    await this.audit.record('subscription_changed', {
      userId: id,
      actorId: actor.id,
      ip: req.ip,
      details: { status: body.status, ends_at: body.ends_at ?? null },
    });
    return toPublicUser(user);
  }

  @Patch(':id')
  @Sensitive({
    action: 'the account was disabled by an administrator',
    target: 'id',
    when: {
      describe: 'disabling',
      // The guard sees the raw body, before the DTO's toBool turns "false", "0", "no", 0 or "" into false:
      // anything that is not plainly enabling is judged as the disable it may become (a bad value is 400 after).
      applies: (req) => toBool({ value: (req.body as { is_active?: unknown } | undefined)?.is_active }) !== true,
    },
  })
  @ApiOperation({
    operationId: 'admin.users.setActive',
    summary:
      'Enable or disable a user (admin). Disabling revokes every session and credential at once; the last active admin cannot be disabled (409).',
  })
  @ApiOkResponse({ type: UserResponse })
  async setActive(
    @CurrentUser() actor: AuthUser,
    @Param('id') id: string,
    @Body() body: SetActiveDto,
    @Req() req: FastifyRequest,
  ): Promise<PublicUser> {
    const { before, after } = await this.users.setActive(id, body.is_active);
    if (before.isActive !== after.isActive) {
      await this.revoker.userChanged(id, 'disabled', { keepSessions: after.isActive });
      await this.audit.record(after.isActive ? 'user_enabled' : 'user_disabled', {
        userId: id,
        actorId: actor.id,
        ip: req.ip,
      });
    }
    return toPublicUser(after);
  }

  /** An admin ended one or all of a user's login sessions. */
  private recordRevoked(
    userId: string,
    actor: AuthUser,
    req: FastifyRequest,
    details: Record<string, unknown>,
  ): Promise<void> {
    return this.audit.record('session_revoked', { userId, actorId: actor.id, ip: req.ip, details });
  }
}
