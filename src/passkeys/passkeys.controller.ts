import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
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
import type { FastifyRequest } from 'fastify';
import type { AuthUser } from '../access/auth-user';
import { AllowedBeforeMfaEnrolment, AuthSchemes, CurrentUser, Sensitive } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { RegisterVerifyDto } from './dto/passkeys.dto';
import { REFUSALS, REFUSED_EXAMPLE } from './responses';
import { NewPasskey, PasskeysService, PasskeyView } from './passkeys.service';
import { NewPasskeyResponse, PasskeyResponse, WebAuthnOptionsResponse } from './passkeys.responses';
import { ApiErrors, PortalError } from '../common/errors/error-responses';

/**
 * Passkeys (API.md 8): the caller's passkeys (a JWT of the caller's own sign-in; adding and removing need
 * `aal2` once MFA is on, as for every factor). The passwordless sign-in is a way in: src/auth.
 */
@ApiTags('portal: passkeys')
@ErrorDialect('portal')
@Controller('api/auth/passkeys')
@ApiErrors('portal')
export class PasskeysController {
  constructor(
    private readonly passkeys: PasskeysService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('register/options')
  @Sensitive({ action: 'a passkey registration was started' })
  @AuthSchemes(['jwt'])
  @AllowedBeforeMfaEnrolment()
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'passkeys.register.options',
    summary: 'Start adding a passkey: PublicKeyCredentialCreationOptionsJSON for navigator.credentials.create()',
    description:
      'Resident key preferred, user verification preferred, attestation none, the caller’s passkeys in ' +
      '`excludeCredentials`. The challenge lives 5 minutes and works once, for this user only. Pass the body ' +
      'to `startRegistration({ optionsJSON })` of @simplewebauthn/browser. Once MFA is on this needs a sign-in ' +
      'at aal2 (403 MFA_STEP_UP_REQUIRED), as for every new factor.',
  })
  @ApiOkResponse({ type: WebAuthnOptionsResponse, description: 'For navigator.credentials.create' })
  registrationOptions(@CurrentUser() caller: AuthUser): Promise<PublicKeyCredentialCreationOptionsJSON> {
    return this.passkeys.registrationOptions(caller.id);
  }

  @Post('register/verify')
  @Sensitive({ action: 'a passkey was added' })
  @AuthSchemes(['jwt'])
  @AllowedBeforeMfaEnrolment()
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'passkeys.register.verify',
    summary: 'Finish adding a passkey; it is also an MFA factor of type passkey',
    description:
      'The answer of `startRegistration()` in `response`. 201 `{id, name, created_at}`; the id is also the ' +
      'factor id in GET /api/auth/mfa. A first factor turns MFA on, and then the body also holds ' +
      '`recovery_codes` (ten, shown this once), as POST /api/auth/mfa/factors/{id}/confirm does. ' +
      'A passkey already registered: 409. ' +
      REFUSALS,
  })
  @ApiUnauthorizedResponse({ type: PortalError, example: REFUSED_EXAMPLE })
  @ApiCreatedResponse({
    type: NewPasskeyResponse,
    example: { id: '6f1c…', name: 'Laptop', created_at: '2026-01-01T00:00:00.000Z', recovery_codes: ['abcde-fghjk'] },
  })
  async register(
    @CurrentUser() caller: AuthUser,
    @Body() body: RegisterVerifyDto,
    @Req() req: FastifyRequest,
  ): Promise<NewPasskey> {
    return this.passkeys.register(caller.id, body.response, body.name, req.ip, caller.sessionId);
  }

  @Get()
  @AuthSchemes(['jwt'])
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'passkeys.list',
    summary: "The caller's passkeys (never their keys' secrets: there are none here)",
  })
  @ApiOkResponse({
    type: [PasskeyResponse],
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
    operationId: 'passkeys.remove',
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
}
