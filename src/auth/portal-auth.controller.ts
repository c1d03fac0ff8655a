import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AllowedBeforeMfaEnrolment, CurrentUser, Public, Roles, Sensitive } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { DomainError } from '../common/errors/domain-error';
import { RateLimited } from '../common/throttle/rate-limit.decorators';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { PublicUser, UsersService } from '../users/users.service';
import { type AuthUser } from '../access/auth-user';
import { assertLoginOrigin, clearAuthCookies, cookieOf, csrfMatches, setAuthCookies } from '../access/cookies';
import { LoginDto, LogoutAllDto, RefreshDto, RegisterUserDto } from './dto/portal-auth.dto';
import { LiveSession, LoginSessionsService } from '../sessions/login-sessions.service';
import { PortalAuthService } from './portal-auth.service';
import { LoginBody } from '../sessions/session-issuer.service';
import { clientInfo } from '../access/client-info';
import { ApiErrors, PortalError } from '../common/errors/error-responses';
import { LoginResponse, LoginSessionResponse } from './auth.responses';
import { UserResponse } from '../users/users.responses';

const LOGIN_EXAMPLE = {
  access_token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9...',
  token_type: 'bearer',
  expires_in: 86400,
  refresh_token: 'xq3...',
  user: { id: '0b6f...', email: 'admin@example.com', role: 'admin' },
};

@ApiTags('portal: auth')
@ErrorDialect('portal')
@Controller('api/auth')
@ApiErrors('portal')
export class PortalAuthController {
  constructor(
    private readonly auth: PortalAuthService,
    private readonly users: UsersService,
    private readonly sessions: LoginSessionsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('login')
  @Public()
  @RateLimited(['login', 'loginIp'])
  @HttpCode(200)
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiOperation({
    operationId: 'auth.login',
    summary: 'Password login: a JWT and a refresh token',
    description:
      '`username` or `email` (either accepts an email address or a username). `remember` gives a 30-day access ' +
      'token instead of 24 h. `set_cookie` also sets `auth_token` (HttpOnly), `refresh_token` (HttpOnly, path ' +
      '/api/auth/refresh) and `csrf_token` (readable; echo it in `X-CSRF-Token` on unsafe requests authenticated ' +
      'by cookie). Wrong or unknown credentials: 401 INVALID_CREDENTIALS, same body and time. Disabled: 403. ' +
      'Limited to 5 attempts per 15 minutes per IP and account, and 50 per IP.',
  })
  @ApiUnauthorizedResponse({
    type: PortalError,
    example: { error: { code: 'INVALID_CREDENTIALS', message: 'Invalid username or password' } },
  })
  @ApiTooManyRequestsResponse({ type: PortalError, description: 'Too many attempts; see Retry-After' })
  @ApiOkResponse({ type: LoginResponse, description: 'Signed in (API.md 1.1)', example: LOGIN_EXAMPLE })
  async login(
    @Body() body: LoginDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<LoginBody> {
    assertLoginOrigin(req, this.config);
    const identifier = body.username ?? body.email;
    if (!identifier) {
      throw new DomainError('VALIDATION_ERROR', 'Invalid input data', [
        { name: 'username', message: 'username or email is required' },
      ]);
    }
    const result = await this.auth.login(
      identifier,
      body.password,
      { remember: body.remember ?? false, setCookie: body.set_cookie ?? false },
      clientInfo(req),
    );
    if (body.set_cookie) setAuthCookies(reply, this.config, result);
    return result;
  }

  @Post('refresh')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'auth.refresh',
    summary: 'Rotate a refresh token: a new access token and a new refresh token',
    description:
      'Every refresh token works once. Presenting one that was already rotated revokes the whole login session ' +
      '(401), except within 10 seconds of its rotation, when the same new pair is returned again (two tabs ' +
      'refreshing together). Refresh tokens expire REFRESH_TOKEN_TTL after login, however often they rotate. ' +
      'Without a body the refresh_token cookie is used, and then X-CSRF-Token must echo the csrf_token cookie.',
  })
  @ApiBody({ type: RefreshDto, required: false })
  @ApiUnauthorizedResponse({
    type: PortalError,
    description: 'invalid, expired or reused refresh token (INVALID_TOKEN)',
  })
  @ApiOkResponse({ type: LoginResponse, description: 'A new access and refresh token', example: LOGIN_EXAMPLE })
  async refresh(
    @Body() body: RefreshDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<LoginBody> {
    let token = body?.refresh_token;
    const fromCookie = !token && cookieOf(req, 'refresh_token') !== undefined;
    if (fromCookie) {
      if (!csrfMatches(req)) throw new DomainError('CSRF_TOKEN_INVALID', 'Missing or invalid CSRF token');
      token = cookieOf(req, 'refresh_token');
    }
    if (!token) {
      throw new DomainError('VALIDATION_ERROR', 'Invalid input data', [
        { name: 'refresh_token', message: 'refresh_token is required' },
      ]);
    }
    const result = await this.auth.refresh(token, clientInfo(req));
    if (fromCookie) setAuthCookies(reply, this.config, result);
    return result;
  }

  @Post('logout')
  @AllowedBeforeMfaEnrolment()
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'auth.logout',
    summary: 'Revoke the current login session: its access and refresh tokens stop working at once',
  })
  @ApiNoContentResponse()
  async logout(
    @CurrentUser() user: AuthUser,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.auth.logout(user, clientInfo(req));
    clearAuthCookies(reply);
  }

  @Post('logout-all')
  @AllowedBeforeMfaEnrolment()
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiBody({ type: LogoutAllDto, required: false })
  @ApiOperation({
    operationId: 'auth.logoutAll',
    summary: 'End every login session, refresh token, key:token pair and temporary IAM token of the caller',
    description:
      'The credential making the request ends too. With `{"include_keys": true}`, API keys and permanent IAM ' +
      'tokens end as well. Every other credential is refused at once on every instance.',
  })
  @ApiNoContentResponse()
  async logoutAll(
    @CurrentUser() user: AuthUser,
    @Body() body: LogoutAllDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.auth.logoutAll(user, clientInfo(req), body?.include_keys === true);
    clearAuthCookies(reply);
  }

  @Get('me')
  @AllowedBeforeMfaEnrolment()
  @ApiBearerAuth()
  @ApiSecurity('basic')
  @ApiSecurity('token')
  @ApiSecurity('api-key')
  @ApiOperation({ operationId: 'auth.me', summary: 'The current user, with any credential scheme' })
  @ApiOkResponse({ type: UserResponse })
  me(@CurrentUser() user: AuthUser): Promise<PublicUser> {
    return this.users.me(user.id);
  }

  @Get('sessions')
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'auth.sessions.list',
    summary: "The caller's live login sessions; `current` marks the one making the request",
  })
  @ApiOkResponse({ type: [LoginSessionResponse] })
  listSessions(@CurrentUser() user: AuthUser): Promise<LiveSession[]> {
    return this.sessions.listLive(user.id, user.sessionId);
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'auth.sessions.revoke',
    summary: "Revoke one of the caller's sessions; another user's or an unknown id is 404",
  })
  @ApiNoContentResponse()
  revokeSession(@CurrentUser() user: AuthUser, @Param('id') id: string, @Req() req: FastifyRequest): Promise<void> {
    return this.auth.revokeSession(user, id, clientInfo(req));
  }

  @Post('register')
  @Roles(['admin', 'coordinator'])
  @Sensitive({
    action: 'a user with the admin role was created',
    when: { describe: 'role admin', applies: (req) => (req.body as { role?: unknown } | undefined)?.role === 'admin' },
  })
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'auth.register',
    summary: 'Create a user (admin: any role; coordinator: patient or caregiver)',
    description:
      'Patients and caregivers may be passwordless (they sign in by magic link). The password policy applies.',
  })
  @ApiCreatedResponse({ type: UserResponse, description: 'The new user' })
  register(
    @CurrentUser() user: AuthUser,
    @Body() body: RegisterUserDto,
    @Req() req: FastifyRequest,
  ): Promise<PublicUser> {
    return this.auth.register(user, body, clientInfo(req));
  }
}
