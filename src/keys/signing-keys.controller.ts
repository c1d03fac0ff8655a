import { Controller, Get, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AuditService } from '../audit/audit.service';
import { type AuthUser } from '../access/auth-user';
import { CurrentUser, Roles, Sensitive } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { SigningKeysService, SigningKeyView } from './signing-keys.service';
import { RotatedSigningKeyResponse, SigningKeysResponse } from './keys.responses';
import { ApiErrors } from '../common/errors/error-responses';

const EXAMPLE_KEY = {
  kid: 'Qm9vX2Jhcl9iYXpfcXV4',
  alg: 'ES256',
  state: 'active',
  created_at: '2026-12-01T10:00:00.000Z',
  publish_at: '2026-12-01T10:00:00.000Z',
  activate_at: '2026-12-01T10:10:00.000Z',
  retire_at: null,
  expire_at: null,
};

@ApiTags('portal: admin')
@ApiBearerAuth()
@ErrorDialect('portal')
@Roles(['admin'])
@Controller('api/admin/signing-keys')
@ApiErrors('portal')
export class SigningKeysController {
  constructor(
    private readonly keys: SigningKeysService,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'signingKeys.list',
    summary:
      'The signing keys of access tokens, the newest first (admin): kid, alg, state and dates, never private material',
    description:
      'state: `pending` (published, signs from activate_at), `active` (signs now), `retired` (signs no more, still ' +
      'published until expire_at), `expired` (out of the JWKS). With JWT_ALGORITHM=HS256 the list is empty.',
  })
  @ApiOkResponse({ type: SigningKeysResponse, example: { algorithm: 'ES256', keys: [EXAMPLE_KEY] } })
  async list(): Promise<{ algorithm: string; keys: SigningKeyView[] }> {
    return { algorithm: this.keys.algorithm, keys: await this.keys.list() };
  }

  @Post('rotate')
  @Sensitive({ action: 'the signing key was rotated' })
  @ApiOperation({
    operationId: 'signingKeys.rotate',
    summary: 'Rotate the signing key now (admin, aal2 when the admin has MFA on)',
    description:
      'The new key is published at once and signs JWT_KEY_PUBLISH_AHEAD later, when the current key retires; the ' +
      'retired key stays in the JWKS until its last token has expired. With JWT_ALGORITHM=HS256: 409 (rotate JWT_SECRET instead).',
  })
  @ApiCreatedResponse({
    type: RotatedSigningKeyResponse,
    example: { key: { ...EXAMPLE_KEY, state: 'pending' }, keys: [] },
  })
  async rotate(
    @CurrentUser() actor: AuthUser,
    @Req() req: FastifyRequest,
  ): Promise<{ key: SigningKeyView; keys: SigningKeyView[] }> {
    const result = await this.keys.rotate();
    await this.audit.record('signing_key_rotated', {
      actorId: actor.id,
      ip: req.ip,
      details: { kid: result.key.kid, activate_at: result.key.activate_at },
    });
    return result;
  }
}
