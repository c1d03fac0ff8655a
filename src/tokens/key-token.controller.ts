import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Req } from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, MaxLength, MinLength, ValidateIf } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { type AuthUser } from '../access/auth-user';
import { AuthSchemes, CurrentUser, Public, Sensitive } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { NoInvisibleCharacters, toIdentifier } from '../common/identifiers';
import { LoginField, RateLimited } from '../common/throttle/rate-limit.decorators';
import { PublicUser } from '../users/users.service';
import { KeyTokenPair, KeyTokensService } from './key-tokens.service';
import { clientInfo } from '../access/client-info';
import { UsersService } from '../users/users.service';
import { KeyTokenPairResponse, KeyTokenSignInResponse } from './tokens.responses';
import { UserResponse, UserWithPendingEmailResponse } from '../users/users.responses';
import { ApiErrors } from '../common/errors/error-responses';

/** Every login identifier field accepts an email address or a username (API.md section 0). */
class LoginCredentialsDto {
  @ApiProperty({ example: 'web', description: 'a registered client application id' })
  @IsString({ message: 'client is required' })
  @MaxLength(64)
  client!: string;

  @ApiProperty({ example: 'user@example.org', description: 'email address or username' })
  @Transform(toIdentifier)
  @IsString({ message: 'email is required' })
  @NoInvisibleCharacters('email')
  @MinLength(1, { message: 'email is required' })
  @MaxLength(320)
  email!: string;

  @ApiProperty()
  @IsString({ message: 'password is required' })
  @MinLength(1, { message: 'password is required' })
  @MaxLength(1024)
  password!: string;
}

/** Sign-up takes the same fields; there the email must be an address. */
class CredentialsDto extends LoginCredentialsDto {
  @ApiProperty({ example: 'user@example.org' })
  @IsEmail({}, { message: 'email must be a valid email address' })
  declare email: string;
}

class RefreshPairDto {
  @ApiProperty({ example: 'web' })
  @IsString({ message: 'client is required' })
  @MaxLength(64)
  client!: string;

  @ApiProperty({ description: 'the key of the pair to refresh' })
  @IsString({ message: 'key is required' })
  @MaxLength(64)
  key!: string;

  @ApiProperty({ description: 'its refresh token' })
  @IsString({ message: 'refresh is required' })
  @MaxLength(128)
  refresh!: string;
}

class LogoutDto {
  @ApiProperty({ example: 'web' })
  @IsString({ message: 'client is required' })
  @MaxLength(64)
  client!: string;
}

/** Absent is "no change"; null is not a value these fields can take (IsOptional would let it through). */
const unlessAbsent = ValidateIf((_dto: object, value: unknown) => value !== undefined);

class UpdateMeDto {
  @ApiPropertyOptional({ description: 'must be free; the new address starts unverified' })
  @unlessAbsent
  @Transform(toIdentifier)
  @NoInvisibleCharacters('email')
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(320)
  email?: string;

  @ApiPropertyOptional({ description: 'the password policy applies; needs current_password' })
  @unlessAbsent
  @IsString()
  @MaxLength(1024)
  password?: string;

  @ApiPropertyOptional({ description: 'the current password: required with password' })
  @unlessAbsent
  @IsString()
  @MaxLength(1024)
  current_password?: string;
}

const PAIR_EXAMPLE = { key: 'kt_…', token: '…', refresh: '…', expires: '2026-12-07T10:00:00.000Z' };

@ApiTags('key:token')
@ErrorDialect('key-token')
@Controller('users')
@ApiErrors('key-token')
export class KeyTokenController {
  constructor(
    private readonly pairs: KeyTokensService,
    private readonly users: UsersService,
  ) {}

  @Post()
  @Public()
  @RateLimited(['register'])
  @ApiOperation({
    operationId: 'keyToken.signUp',
    summary: 'Sign up and receive a key:token pair',
    description: `The role is always the default sign-up role (viewer), whatever the body says. 400 Invalid client ID, 409 That email is already in use, 400 with the policy's words for a weak password.`,
  })
  @ApiCreatedResponse({ type: KeyTokenSignInResponse, example: { role: 'viewer', ...PAIR_EXAMPLE } })
  signUp(@Body() body: CredentialsDto, @Req() req: FastifyRequest) {
    return this.pairs.signUp(body, clientInfo(req));
  }

  @Post('token')
  @Public()
  @RateLimited(['login', 'loginIp'])
  @LoginField('email')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'keyToken.login',
    summary: 'Log in: a new key:token pair. Wrong or unknown: 400 Email or password incorrect (same answer, same time)',
  })
  @ApiOkResponse({ type: KeyTokenSignInResponse, example: { role: 'viewer', ...PAIR_EXAMPLE } })
  logIn(@Body() body: LoginCredentialsDto, @Req() req: FastifyRequest) {
    return this.pairs.logIn(body, clientInfo(req));
  }

  @Post('token/refresh')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'keyToken.refresh',
    summary: 'Replace a pair before it expires: a new key, token and refresh token',
    description:
      'The old pair stops working at once. The refresh must belong to that key and that client. A refresh token used ' +
      'a second time revokes every pair descended from the same login: 400 Invalid refresh token.',
  })
  @ApiOkResponse({ type: KeyTokenPairResponse, example: PAIR_EXAMPLE })
  refresh(@Body() body: RefreshPairDto, @Req() req: FastifyRequest): Promise<KeyTokenPair> {
    return this.pairs.refresh(body, clientInfo(req));
  }

  @Delete('token')
  @HttpCode(204)
  @AuthSchemes(['basic'])
  @ApiBasicAuth('basic')
  @ApiBody({ type: LogoutDto })
  @ApiOperation({
    operationId: 'keyToken.logout',
    summary: 'Log out: revoke the key:token pair that makes this request (refused at once everywhere)',
  })
  @ApiNoContentResponse()
  logOut(@CurrentUser() user: AuthUser, @Body() body: LogoutDto): Promise<void> {
    return this.pairs.logOut(user, body.client);
  }

  @Get()
  @ApiBasicAuth('basic')
  @ApiOperation({ operationId: 'keyToken.me', summary: 'The current user' })
  @ApiOkResponse({ type: UserResponse })
  me(@CurrentUser() user: AuthUser): Promise<PublicUser> {
    return this.users.me(user.id);
  }

  @Patch()
  @Sensitive({
    action: (req) => {
      const body = (req.body ?? {}) as { email?: unknown; password?: unknown };
      const what = [
        body.email != null ? 'a change of your email address was asked for' : '',
        body.password != null ? 'your password was changed' : '',
      ].filter(Boolean);
      return what.join(', and ');
    },
    when: {
      describe: 'email or password given',
      applies: (req) => {
        const body = (req.body ?? {}) as { email?: unknown; password?: unknown };
        return body.email != null || body.password != null;
      },
    },
    delegated: 'allowed',
  })
  @ApiBasicAuth('basic')
  @ApiOperation({
    operationId: 'keyToken.updateMe',
    summary: 'Ask for a new email address, or change the password (with current_password)',
    description:
      '`{email}`: 200 the user with `pending_email`; the address changes only when the link mailed to the new ' +
      'address is opened (once, within 24 hours), and the old address is told at once. 409 That email is already ' +
      'taken. `{password, current_password}`: the policy applies; without current_password 400 ' +
      '`current_password is required`, a wrong one 401. For a user with MFA on, a Basic pair, API key or IAM ' +
      'token changes neither: 403 `Sign in to change this` (API.md 12).',
  })
  @ApiOkResponse({ type: UserWithPendingEmailResponse, description: 'The user, with pending_email' })
  updateMe(
    @CurrentUser() user: AuthUser,
    @Body() body: UpdateMeDto,
    @Req() req: FastifyRequest,
  ): Promise<PublicUser & { pending_email: string | null }> {
    return this.pairs.updateMe(user, body, clientInfo(req));
  }
}
