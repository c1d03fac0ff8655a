import { APP_CONFIG, type AppConfig } from '../config/config';
import { assertLoginOrigin } from '../access/cookies';
import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Public } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { LoginField, RateLimited } from '../common/throttle/rate-limit.decorators';
import { EmailVerificationService } from '../users/email-verification.service';
import { ClinicalAuthService, ClinicalLoginBody } from './clinical-auth.service';
import { ClinicalLoginDto, ClinicalRegisterDto, ResendVerificationDto, VerifyEmailDto } from './dto/clinical-auth.dto';
import { clientInfo } from '../access/client-info';
import { ClinicalLoginResponse, ClinicalMessageResponse, ClinicalRegisterResponse } from './auth.responses';
import { ApiErrors, ClinicalError } from '../common/errors/error-responses';

const VERIFIED = { success: true as const, message: 'Email verified successfully' };

@ApiTags('clinical')
@ErrorDialect('clinical')
@Controller('api')
@ApiErrors('clinical')
export class ClinicalAuthController {
  constructor(
    private readonly clinical: ClinicalAuthService,
    private readonly verification: EmailVerificationService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('register')
  @Public()
  @RateLimited(['register'])
  @ApiOperation({
    operationId: 'clinical.register',
    summary: 'Sign up as a doctor; a verification mail follows',
    description:
      'Every field is required; a failure names each missing or invalid field. The password policy applies and its ' +
      'message says what is missing. A `role` in the body is ignored. Email taken: 409 EMAIL_EXISTS. Limited to 3 per hour per IP.',
  })
  @ApiCreatedResponse({
    type: ClinicalRegisterResponse,
    example: {
      success: true,
      message: 'User registered successfully. Please verify your email.',
      user: { id: 'uuid', email: 'grace@clinic.example', isVerified: false },
    },
  })
  register(@Body() body: ClinicalRegisterDto, @Req() req: FastifyRequest) {
    return this.clinical.register(body, clientInfo(req));
  }

  @Post('login')
  @Public()
  @RateLimited(['login', 'loginIp'])
  @LoginField('email')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'clinical.login',
    summary: 'Log in: a JWT valid 24 hours, or 30 days with remember: true',
    description:
      "The token is the same kind as the portal's (it works on /api/auth/me and ends with /api/auth/logout) and carries " +
      '`userId`. `expiresIn` is in seconds. Wrong pair: 401 INVALID_CREDENTIALS. Unverified: 403 EMAIL_NOT_VERIFIED, only ' +
      'once the password is right. Limited to 5 attempts per 15 minutes per IP and account.',
  })
  @ApiForbiddenResponse({
    type: ClinicalError,
    example: { success: false, error: 'Email verification required', code: 'EMAIL_NOT_VERIFIED' },
  })
  @ApiOkResponse({
    type: ClinicalLoginResponse,
    example: {
      success: true,
      token: 'eyJ…',
      uid: 'uuid',
      userTitle: 'Dr.',
      firstName: 'Grace',
      lastName: 'Hopper',
      expiresIn: 86400,
    },
  })
  login(@Body() body: ClinicalLoginDto, @Req() req: FastifyRequest): Promise<ClinicalLoginBody> {
    assertLoginOrigin(req, this.config);
    return this.clinical.login(body, clientInfo(req));
  }

  @Post('verification/verify')
  @Public()
  @RateLimited(['loginIp'])
  @HttpCode(200)
  @ApiOperation({
    operationId: 'clinical.verification.verify',
    summary: 'Verify an email address with the token from the mail (single use, 24 hours)',
  })
  @ApiOkResponse({ type: ClinicalMessageResponse, example: VERIFIED })
  async verifyPost(@Body() body: VerifyEmailDto) {
    await this.verification.verify(body.token);
    return VERIFIED;
  }

  @Get('verification/verify')
  @Public()
  @RateLimited(['loginIp'])
  @ApiQuery({ name: 'token', required: true })
  @ApiOperation({
    operationId: 'clinical.verification.verifyByLink',
    summary: 'The link in the verification mail: the same as the POST',
  })
  @ApiOkResponse({ type: ClinicalMessageResponse, example: VERIFIED })
  async verifyGet(@Query('token') token: unknown) {
    await this.verification.verify(token);
    return VERIFIED;
  }

  @Post('verification/resend')
  @Public()
  @RateLimited(['resend'])
  @HttpCode(200)
  @ApiOperation({
    operationId: 'clinical.verification.resend',
    summary: 'Send a new verification mail; older links stop working',
    description: 'The same answer for every address, registered or not, verified or not. Limited to 5 per 30 minutes.',
  })
  @ApiOkResponse({
    type: ClinicalMessageResponse,
    example: {
      success: true,
      message: 'If the address belongs to an unverified account, a new verification email is on its way.',
    },
  })
  resend(@Body() body: ResendVerificationDto) {
    this.verification.resend(body.email);
    return {
      success: true,
      message: 'If the address belongs to an unverified account, a new verification email is on its way.',
    };
  }
}
