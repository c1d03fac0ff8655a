import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { DomainError } from '../common/errors/domain-error';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { FactorView, MfaService, MfaStatus, TotpEnrolment } from './mfa.service';
import { E164_PATTERN } from '../sms/e164';
import { type AuthUser } from '../access/auth-user';
import { AllowedBeforeMfaEnrolment, AuthSchemes, CurrentUser, Sensitive } from '../access/decorators';
import { isUuid } from '../common/identifiers';
import { UsersService } from '../users/users.service';
import {
  FactorConfirmedResponse,
  FactorEnrolmentResponse,
  MfaStatusResponse,
  RecoveryCodesResponse,
  TotpEnrolmentResponse,
} from './mfa.responses';
import { ApiErrors } from '../common/errors/error-responses';

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

/**
 * Two-factor authentication (API.md 6): the caller's factors (a JWT of the caller's own sign-in; changes
 * need `aal2` once MFA is on), and the public second step of a sign-in that answered MFA_REQUIRED.
 */
@ApiTags('portal: two-factor authentication')
@ErrorDialect('portal')
@AllowedBeforeMfaEnrolment()
@Controller('api/auth/mfa')
@ApiErrors('portal')
export class MfaController {
  constructor(
    private readonly mfa: MfaService,
    private readonly users: UsersService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @AuthSchemes(['jwt'])
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'mfa.status',
    summary: "The caller's confirmed factors and how many recovery codes are left",
  })
  @ApiOkResponse({ type: MfaStatusResponse })
  status(@CurrentUser() user: AuthUser): Promise<MfaStatus> {
    return this.mfa.status(user.id);
  }

  @Post('totp')
  @AuthSchemes(['jwt'])
  @Sensitive({ action: 'an authenticator app was being set up as a second factor' })
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'mfa.totp.enrol',
    summary: 'Start enrolling an authenticator app: the secret, its otpauth:// URI and a QR code, shown this once',
    description: 'Pending until confirmed with a first code (`POST /api/auth/mfa/factors/{id}/confirm`).',
  })
  @ApiCreatedResponse({ type: TotpEnrolmentResponse })
  async enrolTotp(@CurrentUser() caller: AuthUser, @Body() body: TotpEnrolDto): Promise<TotpEnrolment> {
    return this.mfa.enrolTotp(await this.users.me(caller.id), body.name);
  }

  @Post('email')
  @AuthSchemes(['jwt'])
  @Sensitive({ action: 'your email address was being set up as a second factor' })
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'mfa.email.enrol',
    summary: "Start enrolling the caller's email address: a 6-digit code is mailed (10 minutes)",
  })
  @ApiCreatedResponse({ type: FactorEnrolmentResponse })
  async enrolEmail(@CurrentUser() caller: AuthUser): Promise<{ factor_id: string }> {
    return this.mfa.enrolEmail(await this.users.me(caller.id));
  }

  @Post('sms')
  @AuthSchemes(['jwt'])
  @Sensitive({ action: 'a phone was being set up as a second factor' })
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'mfa.sms.enrol',
    summary: 'Start enrolling a phone (E.164): a 6-digit code is sent by SMS (10 minutes)',
  })
  @ApiCreatedResponse({ type: FactorEnrolmentResponse })
  async enrolSms(@CurrentUser() caller: AuthUser, @Body() body: SmsEnrolDto): Promise<{ factor_id: string }> {
    return this.mfa.enrolSms(caller, body.phone);
  }

  @Post('factors/:id/confirm')
  @AuthSchemes(['jwt'])
  @Sensitive({ action: 'a second factor was confirmed' })
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'mfa.factors.confirm',
    summary: 'Confirm a factor with its first code; the first confirmed factor turns MFA on',
    description: 'When MFA turns on the answer holds the ten recovery codes, shown this once. Wrong code: 401.',
  })
  @ApiOkResponse({ type: FactorConfirmedResponse })
  async confirm(
    @CurrentUser() caller: AuthUser,
    @Param('id') id: string,
    @Body() body: ConfirmDto,
    @Req() req: FastifyRequest,
  ): Promise<{ factor: FactorView; recovery_codes?: string[] }> {
    if (!isUuid(id)) throw new DomainError('NOT_FOUND', 'Factor not found');
    // The first factor turns MFA on, which ends every other sign-in of the account (API.md 12).
    return this.mfa.confirm(caller.id, id, body.code, req.ip, caller.sessionId);
  }

  @Delete('factors/:id')
  @AuthSchemes(['jwt'])
  @Sensitive({ action: 'a second factor was removed' })
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'mfa.factors.remove',
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
  @ApiOperation({
    operationId: 'mfa.recoveryCodes.regenerate',
    summary: 'Ten new recovery codes, shown this once; the old ones stop working',
  })
  @ApiOkResponse({ type: RecoveryCodesResponse })
  async regenerate(@CurrentUser() caller: AuthUser, @Req() req: FastifyRequest): Promise<{ recovery_codes: string[] }> {
    return { recovery_codes: await this.mfa.regenerateRecoveryCodes(caller.id, req.ip) };
  }
}
