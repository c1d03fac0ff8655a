import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { clientInfo } from '../access/client-info';
import { setAuthCookies } from '../access/cookies';
import { Public } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { RateLimited } from '../common/throttle/rate-limit.decorators';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { LoginOptionsDto, LoginVerifyDto } from '../passkeys/dto/passkeys.dto';
import { LoginOptions, PasskeysService } from '../passkeys/passkeys.service';
import { REFUSALS, REFUSED_EXAMPLE } from '../passkeys/responses';
import type { LoginBody } from '../sessions/session-issuer.service';
import { PasskeySignInService } from './passkey-sign-in.service';
import { WebAuthnOptionsResponse } from '../passkeys/passkeys.responses';
import { ApiErrors, PortalError } from '../common/errors/error-responses';
import { LoginResponse } from './auth.responses';

/** The public passwordless sign-in with a passkey (API.md 8); the caller's passkeys are src/passkeys. */
@ApiTags('portal: passkeys')
@ErrorDialect('portal')
@Controller('api/auth/passkeys')
@ApiErrors('portal')
export class PasskeySignInController {
  constructor(
    private readonly passkeys: PasskeysService,
    private readonly signIns: PasskeySignInService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('login/options')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'passkeys.login.options',
    summary: 'Start a passkey sign-in: PublicKeyCredentialRequestOptionsJSON and a challenge_id',
    description:
      'With `email` (or a username), `allowCredentials` lists that account’s passkeys; an unknown account ' +
      'gets the same shape (one credential id that no authenticator holds), so the answer tells nothing. ' +
      'Without it, `allowCredentials` is empty and any discoverable passkey may answer. Pass the body to ' +
      '`startAuthentication({ optionsJSON })`, and keep `challenge_id` for login/verify (5 minutes, once).',
  })
  @ApiOkResponse({
    type: WebAuthnOptionsResponse,
    description: 'For navigator.credentials.get',
    example: {
      challenge: 'n3Vh…',
      timeout: 300000,
      rpId: 'example.org',
      allowCredentials: [],
      userVerification: 'preferred',
      challenge_id: '0d9e…',
    },
  })
  loginOptions(@Body() body: LoginOptionsDto): Promise<LoginOptions> {
    return this.passkeys.loginOptions(body.email);
  }

  @Post('login/verify')
  @Public()
  @RateLimited(['loginIp'])
  @HttpCode(200)
  @ApiOperation({
    operationId: 'passkeys.login.verify',
    summary: 'Finish a passkey sign-in: the login body of POST /api/auth/login',
    description:
      '`amr` holds `hwk`. When the authenticator verified the user (PIN, biometric: the UV flag) the passkey ' +
      'is both factors: `amr` ["hwk", "mfa"] and `aal2`. Without user verification it is one factor, and since ' +
      'a passkey is an MFA factor its user has MFA on: 401 MFA_REQUIRED with the other factors, finished at ' +
      'POST /api/auth/mfa/verify (a recovery code works too). `remember` and `set_cookie` as on ' +
      'POST /api/auth/login. Disabled account: 403. ' +
      REFUSALS,
  })
  @ApiUnauthorizedResponse({ type: PortalError, example: REFUSED_EXAMPLE })
  @ApiOkResponse({ type: LoginResponse })
  async login(
    @Body() body: LoginVerifyDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<LoginBody> {
    const result = await this.signIns.signIn(
      body.challenge_id,
      body.response,
      { remember: body.remember ?? false, setCookie: body.set_cookie ?? false },
      clientInfo(req),
    );
    if (body.set_cookie) setAuthCookies(reply, this.config, result);
    return result;
  }
}
