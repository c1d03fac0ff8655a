import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { clientInfo } from '../access/client-info';
import { setAuthCookies } from '../access/cookies';
import { AllowedBeforeMfaEnrolment, Public } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { DomainError } from '../common/errors/domain-error';
import { RateLimited } from '../common/throttle/rate-limit.decorators';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { SecondStepService } from './second-step.service';
import { MessageResponse } from '../mfa/mfa.responses';
import { WebAuthnOptionsResponse } from '../passkeys/passkeys.responses';
import { ClinicalLoginResponse, LoginResponse } from './auth.responses';
import { ApiErrors } from '../common/errors/error-responses';

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

/** The public second step of a sign-in that answered MFA_REQUIRED (API.md 6); the factors are src/mfa. */
@ApiTags('portal: two-factor authentication')
@ErrorDialect('portal')
@AllowedBeforeMfaEnrolment()
@Controller('api/auth/mfa')
@ApiErrors('portal')
export class SecondStepController {
  constructor(
    private readonly secondStep: SecondStepService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('challenge')
  @Public()
  @RateLimited(['loginIp'])
  @HttpCode(202)
  @ApiOperation({
    operationId: 'mfa.challenge',
    summary: 'Second step: send the code of an email or SMS factor (202), or WebAuthn options for a passkey (200)',
    description:
      'A newer code replaces the older one. For a passkey factor: 200 PublicKeyCredentialRequestOptionsJSON ' +
      'whose allowCredentials is that passkey (the challenge lives 5 minutes, works once, for this mfa_token ' +
      'and factor only); pass it to startAuthentication() and send the answer as `webauthn` to ' +
      'POST /api/auth/mfa/verify. Unknown, used or expired mfa_token: 401 INVALID_TOKEN.',
  })
  @ApiAcceptedResponse({
    type: MessageResponse,
    description: 'A code was sent (email, SMS)',
    example: { message: 'Code sent' },
  })
  @ApiOkResponse({
    type: WebAuthnOptionsResponse,
    description: 'A passkey factor: the options for navigator.credentials.get',
  })
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
    operationId: 'mfa.verify',
    summary: 'Second step: finish the sign-in with a code, a recovery code or a passkey',
    description:
      'Answers with the login body of the route where the sign-in began (POST /api/auth/login, a magic link: ' +
      'section 1.1; POST /api/login: section 2), with its remember and set_cookie. A passkey: ' +
      '`{mfa_token, factor_id, webauthn}` over the options of POST /api/auth/mfa/challenge. Wrong code, or an ' +
      'assertion that does not hold: 401 ' +
      'INVALID_MFA_CODE; after 5 wrong codes the mfa_token is dead (401 INVALID_TOKEN); RATE_LIMIT_MFA wrong ' +
      'codes per account refuse its verifications for the rest of the window (429).',
  })
  @ApiExtraModels(LoginResponse, ClinicalLoginResponse)
  @ApiOkResponse({
    description: 'The login body of the route where the sign-in began',
    schema: { oneOf: [{ $ref: getSchemaPath(LoginResponse) }, { $ref: getSchemaPath(ClinicalLoginResponse) }] },
  })
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
