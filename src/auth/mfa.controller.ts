import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, IsUUID, Matches, MaxLength, MinLength } from 'class-validator';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { DomainError } from '../common/errors/domain-error';
import { RateLimited } from '../common/throttle/rate-limit.decorators';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { FactorView, MfaService, MfaStatus, TotpEnrolment } from '../mfa/mfa.service';
import { E164_PATTERN } from '../sms/e164';
import { isUuid } from '../users/users.service';
import { AccessRevoker } from './access-revoker.service';
import { type AuthUser } from './auth-user';
import { setAuthCookies } from './cookies';
import { AllowedBeforeMfaEnrolment, AuthSchemes, CurrentUser, Public, Sensitive } from './decorators';
import { MfaSignInService } from './mfa-sign-in.service';
import { clientInfo } from './portal-auth.controller';
import { PortalAuthService } from './portal-auth.service';

class TotpEnrolDto {
  @ApiPropertyOptional({ example: 'Phone', description: 'a name to tell your factors apart' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  name?: string;
}

class SmsEnrolDto {
  @ApiProperty({ example: '+447700900123', description: 'E.164' })
  @IsString()
  @Matches(E164_PATTERN, { message: 'phone must be an E.164 number such as +447700900123' })
  phone!: string;
}

class ConfirmDto {
  @ApiProperty({ example: '123456' })
  @IsString()
  @MaxLength(16)
  code!: string;
}

class ChallengeDto {
  @ApiProperty({ description: 'the mfa_token of the MFA_REQUIRED answer' })
  @IsString()
  @MaxLength(256)
  mfa_token!: string;

  @ApiProperty({ description: 'an email, sms or passkey factor of the MFA_REQUIRED answer' })
  @IsUUID('all', { message: 'factor_id must be a factor id' })
  factor_id!: string;
}

class VerifyDto {
  @ApiProperty({ description: 'the mfa_token of the MFA_REQUIRED answer' })
  @IsString()
  @MaxLength(256)
  mfa_token!: string;

  @ApiPropertyOptional({
    example: '123456',
    description: 'a code of an authenticator app, or one sent by email or SMS',
  })
  @IsOptional()
  @IsString()
  @MaxLength(16)
  code?: string;

  @ApiPropertyOptional({ example: 'abcde-fghjk', description: 'one of the ten recovery codes (instead of code)' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(32)
  recovery_code?: string;

  @ApiPropertyOptional({ description: 'check the code against this factor only; the passkey factor of webauthn' })
  @IsOptional()
  @IsUUID('all', { message: 'factor_id must be a factor id' })
  factor_id?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'a passkey factor: the answer of startAuthentication() over the options of POST /api/auth/mfa/challenge ' +
      '(with factor_id; instead of code)',
  })
  @IsOptional()
  @IsObject()
  webauthn?: Record<string, unknown>;
}

const needsOne = (body: VerifyDto) => {
  const given = [body.code, body.recovery_code, body.webauthn].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new DomainError('VALIDATION_ERROR', 'Invalid input data', [
      { name: 'code', message: 'give one of code, recovery_code or webauthn' },
    ]);
  }
  if (body.webauthn !== undefined && body.factor_id === undefined) {
    throw new DomainError('VALIDATION_ERROR', 'Invalid input data', [
      { name: 'factor_id', message: 'factor_id names the passkey factor of webauthn' },
    ]);
  }
};

/**
 * Two-factor authentication (API.md 6): the caller's factors (a JWT of the caller's own sign-in; changes
 * need `aal2` once MFA is on), and the public second step of a sign-in that answered MFA_REQUIRED.
 */
@ApiTags('portal: two-factor authentication')
@ErrorDialect('portal')
@AllowedBeforeMfaEnrolment()
@Controller('api/auth/mfa')
export class MfaController {
  constructor(
    private readonly mfa: MfaService,
    private readonly secondStep: MfaSignInService,
    private readonly auth: PortalAuthService,
    private readonly revoker: AccessRevoker,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @AuthSchemes(['jwt'])
  @ApiBearerAuth()
  @ApiOperation({ summary: "The caller's confirmed factors and how many recovery codes are left" })
  status(@CurrentUser() user: AuthUser): Promise<MfaStatus> {
    return this.mfa.status(user.id);
  }

  @Post('totp')
  @AuthSchemes(['jwt'])
  @Sensitive({ action: 'an authenticator app was being set up as a second factor' })
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Start enrolling an authenticator app: the secret, its otpauth:// URI and a QR code, shown this once',
    description: 'Pending until confirmed with a first code (`POST /api/auth/mfa/factors/{id}/confirm`).',
  })
  @ApiCreatedResponse({ description: '{factor_id, secret, otpauth_uri, qr_code}' })
  async enrolTotp(@CurrentUser() caller: AuthUser, @Body() body: TotpEnrolDto): Promise<TotpEnrolment> {
    return this.mfa.enrolTotp(await this.auth.me(caller), body.name);
  }

  @Post('email')
  @AuthSchemes(['jwt'])
  @Sensitive({ action: 'your email address was being set up as a second factor' })
  @ApiBearerAuth()
  @ApiOperation({ summary: "Start enrolling the caller's email address: a 6-digit code is mailed (10 minutes)" })
  @ApiCreatedResponse({ description: '{factor_id}' })
  async enrolEmail(@CurrentUser() caller: AuthUser): Promise<{ factor_id: string }> {
    return this.mfa.enrolEmail(await this.auth.me(caller));
  }

  @Post('sms')
  @AuthSchemes(['jwt'])
  @Sensitive({ action: 'a phone was being set up as a second factor' })
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Start enrolling a phone (E.164): a 6-digit code is sent by SMS (10 minutes)' })
  @ApiCreatedResponse({ description: '{factor_id}' })
  async enrolSms(@CurrentUser() caller: AuthUser, @Body() body: SmsEnrolDto): Promise<{ factor_id: string }> {
    return this.mfa.enrolSms(caller, body.phone);
  }

  @Post('factors/:id/confirm')
  @AuthSchemes(['jwt'])
  @Sensitive({ action: 'a second factor was confirmed' })
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Confirm a factor with its first code; the first confirmed factor turns MFA on',
    description: 'When MFA turns on the answer holds the ten recovery codes, shown this once. Wrong code: 401.',
  })
  @ApiOkResponse({ description: '{factor, recovery_codes?}' })
  async confirm(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Body() body: ConfirmDto,
    @Req() req: FastifyRequest,
  ): Promise<{ factor: FactorView; recovery_codes?: string[] }> {
    if (!isUuid(id)) throw new DomainError('NOT_FOUND', 'Factor not found');
    const confirmed = await this.mfa.confirm(caller.id, id, body.code, req.ip);
    if (confirmed.recovery_codes) await this.revoker.mfaTurnedOn(caller.id, caller.sessionId);
    return confirmed;
  }

  @Delete('factors/:id')
  @AuthSchemes(['jwt'])
  @Sensitive({ action: 'a second factor was removed' })
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Remove a factor; the last one turns MFA off and takes the recovery codes with it',
    description: '409 MFA_REQUIRED_BY_POLICY for the last factor of a role in MFA_REQUIRED_ROLES.',
  })
  @ApiNoContentResponse()
  async remove(@CurrentUser() caller: AuthUser, @Param('id') id: string, @Req() req: FastifyRequest): Promise<void> {
    if (!isUuid(id)) throw new DomainError('NOT_FOUND', 'Factor not found');
    await this.mfa.remove(caller.id, caller.role, id, req.ip);
  }

  @Post('recovery-codes')
  @AuthSchemes(['jwt'])
  @Sensitive({ action: 'new recovery codes were made (the old ones stopped working)' })
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Ten new recovery codes, shown this once; the old ones stop working' })
  async regenerate(@CurrentUser() caller: AuthUser, @Req() req: FastifyRequest): Promise<{ recovery_codes: string[] }> {
    return { recovery_codes: await this.mfa.regenerateRecoveryCodes(caller.id, req.ip) };
  }

  @Post('challenge')
  @Public()
  @RateLimited(['loginIp'])
  @HttpCode(202)
  @ApiOperation({
    summary: 'Second step: send the code of an email or SMS factor (202), or WebAuthn options for a passkey (200)',
    description:
      'A newer code replaces the older one. For a passkey factor: 200 PublicKeyCredentialRequestOptionsJSON ' +
      'whose allowCredentials is that passkey (the challenge lives 5 minutes, works once, for this mfa_token ' +
      'and factor only); pass it to startAuthentication() and send the answer as `webauthn` to ' +
      'POST /api/auth/mfa/verify. Unknown, used or expired mfa_token: 401 INVALID_TOKEN.',
  })
  @ApiAcceptedResponse({ schema: { example: { message: 'Code sent' } } })
  @ApiOkResponse({ description: 'PublicKeyCredentialRequestOptionsJSON (a passkey factor)' })
  async challenge(
    @Body() body: ChallengeDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ message: string } | PublicKeyCredentialRequestOptionsJSON> {
    const outcome = await this.secondStep.challenge(body.mfa_token, body.factor_id);
    if (outcome.kind === 'sent') return { message: 'Code sent' };
    // Nothing is sent for a passkey: the options are the answer (API.md 6), so 200 rather than 202.
    reply.status(200);
    return outcome.options;
  }

  @Post('verify')
  @Public()
  @RateLimited(['loginIp'])
  @HttpCode(200)
  @ApiOperation({
    summary: 'Second step: finish the sign-in with a code, a recovery code or a passkey',
    description:
      'Answers with the login body of the route where the sign-in began (POST /api/auth/login, a magic link: ' +
      'section 1.1; POST /api/login: section 2), with its remember and set_cookie. A passkey: ' +
      '`{mfa_token, factor_id, webauthn}` over the options of POST /api/auth/mfa/challenge. Wrong code, or an ' +
      'assertion that does not hold: 401 ' +
      'INVALID_MFA_CODE; after 5 wrong codes the mfa_token is dead (401 INVALID_TOKEN); RATE_LIMIT_MFA wrong ' +
      'codes per account refuse its verifications for the rest of the window (429).',
  })
  @ApiOkResponse({ description: 'the login body of the first step' })
  async verify(
    @Body() body: VerifyDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<unknown> {
    needsOne(body);
    const result = await this.secondStep.verify(body, clientInfo(req));
    if (result.surface === 'portal' && result.setCookie) setAuthCookies(reply, this.config, result.body);
    return result.body;
  }
}
