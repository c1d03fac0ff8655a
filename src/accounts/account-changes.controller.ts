import { Body, Controller, Get, HttpCode, Post, Query, Req } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, MaxLength } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { NoInvisibleCharacters, toIdentifier } from '../common/identifiers';
import { RateLimited } from '../common/throttle/rate-limit.decorators';
import { AccountChangesService } from './account-changes.service';
import { Public } from '../access/decorators';
import { clientInfo } from '../access/client-info';
import { MessageResponse } from '../mfa/mfa.responses';
import { ApiErrors, PortalError } from '../common/errors/error-responses';
import { EmailConfirmedResponse } from '../auth/auth.responses';

class ForgotPasswordDto {
  @ApiProperty({ example: 'researcher@example.org' })
  @Transform(toIdentifier)
  @NoInvisibleCharacters('email')
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(320)
  email!: string;
}

class ResetPasswordDto {
  @ApiProperty({ description: 'the token of the link in the mail' })
  @IsString({ message: 'token is required' })
  @MaxLength(256)
  token!: string;

  @ApiProperty({ description: 'the new password; the password policy applies' })
  @IsString({ message: 'password is required' })
  @MaxLength(1024)
  password!: string;
}

class ConfirmEmailDto {
  @ApiProperty({ description: 'the token of the link mailed to the new address' })
  @IsString({ message: 'token is required' })
  @MaxLength(256)
  token!: string;
}

const FORGOT_ANSWER = {
  message: 'If an account with a password has this address, a link to reset the password is on its way',
};

/** Forgot password and the confirmation of a new email address (API.md 12): changes that go through a mailbox. */
@ApiTags('portal: account recovery')
@ErrorDialect('portal')
@Controller('api/auth')
@ApiErrors('portal')
export class AccountChangesController {
  constructor(private readonly changes: AccountChangesService) {}

  @Post('password/forgot')
  @Public()
  @RateLimited(['magicLink'])
  @HttpCode(202)
  @ApiOperation({
    operationId: 'auth.password.forgot',
    summary: 'Mail a link to reset a forgotten password',
    description:
      'Always 202 with the same body, at once, for every syntactically valid address (no enumeration; the lookup ' +
      'and the mail happen after the answer). An active user with a password gets `${PORTAL_URL}/reset?token=...`: ' +
      'single use, 30 minutes, kept hashed; a newer link replaces the older. Limited per IP and per address ' +
      '(RATE_LIMIT_MAGIC_LINK).',
  })
  @ApiAcceptedResponse({ type: MessageResponse, example: FORGOT_ANSWER })
  forgot(@Body() body: ForgotPasswordDto, @Req() req: FastifyRequest): typeof FORGOT_ANSWER {
    this.changes.forgotPassword(body.email, clientInfo(req));
    return FORGOT_ANSWER;
  }

  @Post('password/reset')
  @Public()
  @RateLimited(['loginIp'])
  @HttpCode(204)
  @ApiOperation({
    operationId: 'auth.password.reset',
    summary: 'Set a new password with the token of a reset link',
    description:
      'The link works once. Then every credential of the user ends (login sessions, refresh tokens, key:token ' +
      'pairs, IAM tokens, API keys) and the address is told. It signs nobody in: a user with MFA on still needs ' +
      'the second factor at the next sign-in. Unknown, used or expired token: 401 INVALID_TOKEN; a password the ' +
      'policy refuses: 400 VALIDATION_ERROR (the link still works).',
  })
  @ApiNoContentResponse()
  @ApiUnauthorizedResponse({ type: PortalError, example: { error: { code: 'INVALID_TOKEN', message: '...' } } })
  async reset(@Body() body: ResetPasswordDto, @Req() req: FastifyRequest): Promise<void> {
    await this.changes.resetPassword(body.token, body.password, clientInfo(req));
  }

  @Get('email/confirm')
  @Public()
  @RateLimited(['loginIp'])
  @ApiOperation({
    operationId: 'auth.email.confirmByLink',
    summary: 'Confirm a new email address: the link mailed to it (key:token PATCH /users)',
    description:
      "Works once, within 24 hours; the address becomes the account's (verified) and the old one is told. " +
      'Unknown, used or expired token: 401 INVALID_TOKEN; the address taken meanwhile: 409 CONFLICT.',
  })
  @ApiOkResponse({
    type: EmailConfirmedResponse,
    example: { message: 'Your email address is now new@example.org', email: 'new@…' },
  })
  confirmByLink(@Query() query: ConfirmEmailDto, @Req() req: FastifyRequest) {
    return this.confirm(query.token, req);
  }

  @Post('email/confirm')
  @Public()
  @RateLimited(['loginIp'])
  @HttpCode(200)
  @ApiOperation({
    operationId: 'auth.email.confirm',
    summary: 'Confirm a new email address with the token of its link (as the GET does)',
  })
  @ApiOkResponse({
    type: EmailConfirmedResponse,
    example: { message: 'Your email address is now new@example.org', email: 'new@…' },
  })
  confirmByPost(@Body() body: ConfirmEmailDto, @Req() req: FastifyRequest) {
    return this.confirm(body.token, req);
  }

  private async confirm(token: string, req: FastifyRequest): Promise<{ message: string; email: string }> {
    const { email } = await this.changes.confirmEmailChange(token, clientInfo(req));
    return { message: `Your email address is now ${email}`, email };
  }
}
