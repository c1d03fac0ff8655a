import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessRevoker } from '../auth/access-revoker.service';
import type { AuthUser } from '../auth/auth-user';
import { setAuthCookies } from '../auth/cookies';
import { AllowedBeforeMfaEnrolment, AuthSchemes, CurrentUser, Public, Sensitive } from '../auth/decorators';
import { clientInfo } from '../auth/portal-auth.controller';
import type { LoginBody } from '../auth/session-issuer.service';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { RateLimited } from '../common/throttle/rate-limit.decorators';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { LoginOptionsDto, LoginVerifyDto, RegisterVerifyDto } from './dto/passkeys.dto';
import { PasskeySignInService } from './passkey-sign-in.service';
import { LoginOptions, NewPasskey, PasskeysService, PasskeyView } from './passkeys.service';

const REFUSED_EXAMPLE = {
  error: { code: 'INVALID_CREDENTIALS', message: 'This passkey could not be verified' },
};
const REFUSALS =
  'Wrong origin, wrong RP id, a used, expired or unknown challenge (or one issued for another purpose or ' +
  'user), an unknown or removed credential, a bad signature, a signature counter that did not increase, ' +
  'or a response that is not a WebAuthn credential inside: 401 INVALID_CREDENTIALS, nothing stored, the ' +
  'challenge used up. A body whose fields are of the wrong type: 400 VALIDATION_ERROR.';

/**
 * Passkeys (API.md 8): the caller's passkeys (a JWT of the caller's own sign-in; adding and removing need
 * `aal2` once MFA is on, as for every factor), and the public passwordless sign-in.
 */
@ApiTags('portal: passkeys')
@ErrorDialect('portal')
@Controller('api/auth/passkeys')
export class PasskeysController {
  constructor(
    private readonly passkeys: PasskeysService,
    private readonly signIns: PasskeySignInService,
    private readonly revoker: AccessRevoker,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('register/options')
  @Sensitive({ action: 'a passkey registration was started' })
  @AuthSchemes(['jwt'])
  @AllowedBeforeMfaEnrolment()
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Start adding a passkey: PublicKeyCredentialCreationOptionsJSON for navigator.credentials.create()',
    description:
      'Resident key preferred, user verification preferred, attestation none, the caller’s passkeys in ' +
      '`excludeCredentials`. The challenge lives 5 minutes and works once, for this user only. Pass the body ' +
      'to `startRegistration({ optionsJSON })` of @simplewebauthn/browser. Once MFA is on this needs a sign-in ' +
      'at aal2 (403 MFA_STEP_UP_REQUIRED), as for every new factor.',
  })
  @ApiOkResponse({ description: 'PublicKeyCredentialCreationOptionsJSON' })
  registrationOptions(@CurrentUser() caller: AuthUser): Promise<PublicKeyCredentialCreationOptionsJSON> {
    return this.passkeys.registrationOptions(caller.id);
  }

  @Post('register/verify')
  @Sensitive({ action: 'a passkey was added' })
  @AuthSchemes(['jwt'])
  @AllowedBeforeMfaEnrolment()
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Finish adding a passkey; it is also an MFA factor of type passkey',
    description:
      'The answer of `startRegistration()` in `response`. 201 `{id, name, created_at}`; the id is also the ' +
      'factor id in GET /api/auth/mfa. A first factor turns MFA on, and then the body also holds ' +
      '`recovery_codes` (ten, shown this once), as POST /api/auth/mfa/factors/{id}/confirm does. ' +
      'A passkey already registered: 409. ' +
      REFUSALS,
  })
  @ApiCreatedResponse({
    schema: {
      example: { id: '6f1c…', name: 'Laptop', created_at: '2026-01-01T00:00:00.000Z', recovery_codes: ['abcde-fghjk'] },
    },
  })
  @ApiUnauthorizedResponse({ schema: { example: REFUSED_EXAMPLE } })
  async register(
    @CurrentUser() caller: AuthUser,
    @Body() body: RegisterVerifyDto,
    @Req() req: FastifyRequest,
  ): Promise<NewPasskey> {
    const added = await this.passkeys.register(caller.id, body.response, body.name, req.ip);
    if (added.recovery_codes) await this.revoker.mfaTurnedOn(caller.id, caller.sessionId);
    return added;
  }

  @Get()
  @AuthSchemes(['jwt'])
  @ApiBearerAuth()
  @ApiOperation({ summary: "The caller's passkeys (never their keys' secrets: there are none here)" })
  @ApiOkResponse({
    schema: {
      example: [
        {
          id: '6f1c…',
          name: 'Laptop',
          created_at: '2026-01-01T00:00:00.000Z',
          last_used_at: null,
          transports: ['internal', 'hybrid'],
          aaguid: '00000000-0000-0000-0000-000000000000',
          backed_up: true,
          device_type: 'multiDevice',
        },
      ],
    },
  })
  list(@CurrentUser() caller: AuthUser): Promise<PasskeyView[]> {
    return this.passkeys.list(caller.id);
  }

  @Delete(':id')
  @Sensitive({ action: 'a passkey was removed' })
  @AuthSchemes(['jwt'])
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Remove a passkey (and its MFA factor)',
    description:
      'As DELETE /api/auth/mfa/factors/{id}: needs aal2 when MFA is on (403 MFA_STEP_UP_REQUIRED); the last ' +
      'factor turns MFA off and takes the recovery codes with it; 409 MFA_REQUIRED_BY_POLICY for the last ' +
      'factor of a role in MFA_REQUIRED_ROLES; another user’s or an unknown id: 404.',
  })
  @ApiNoContentResponse()
  async remove(@CurrentUser() caller: AuthUser, @Param('id') id: string, @Req() req: FastifyRequest): Promise<void> {
    await this.passkeys.remove(caller.id, caller.role, id, req.ip);
  }

  @Post('login/options')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Start a passkey sign-in: PublicKeyCredentialRequestOptionsJSON and a challenge_id',
    description:
      'With `email` (or a username), `allowCredentials` lists that account’s passkeys; an unknown account ' +
      'gets the same shape (one credential id that no authenticator holds), so the answer tells nothing. ' +
      'Without it, `allowCredentials` is empty and any discoverable passkey may answer. Pass the body to ' +
      '`startAuthentication({ optionsJSON })`, and keep `challenge_id` for login/verify (5 minutes, once).',
  })
  @ApiOkResponse({
    schema: {
      example: {
        challenge: 'n3Vh…',
        timeout: 300000,
        rpId: 'example.org',
        allowCredentials: [],
        userVerification: 'preferred',
        challenge_id: '0d9e…',
      },
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
    summary: 'Finish a passkey sign-in: the login body of POST /api/auth/login',
    description:
      '`amr` holds `hwk`. When the authenticator verified the user (PIN, biometric: the UV flag) the passkey ' +
      'is both factors: `amr` ["hwk", "mfa"] and `aal2`. Without user verification it is one factor, and since ' +
      'a passkey is an MFA factor its user has MFA on: 401 MFA_REQUIRED with the other factors, finished at ' +
      'POST /api/auth/mfa/verify (a recovery code works too). `remember` and `set_cookie` as on ' +
      'POST /api/auth/login. Disabled account: 403. ' +
      REFUSALS,
  })
  @ApiOkResponse({ description: 'the login body of section 1.1' })
  @ApiUnauthorizedResponse({ schema: { example: REFUSED_EXAMPLE } })
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
