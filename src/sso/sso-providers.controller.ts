import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AuditService } from '../audit/audit.service';
import { type AuthUser } from '../access/auth-user';
import { CurrentUser, Roles, Sensitive } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { CreateSsoProviderDto, emptyUpdateFields, UpdateSsoProviderDto } from './dto';
import { DomainError } from '../common/errors/domain-error';
import { SsoProvidersService, SsoProviderView } from './providers.service';
import { SsoProviderResponse } from './sso.responses';
import { ApiErrors } from '../common/errors/error-responses';

const EXAMPLE = {
  id: 'uni-example',
  type: 'oidc',
  name: 'University of Example',
  domains: ['uni.example'],
  default_role: 'researcher',
  kind: null,
  issuer: 'https://idp.uni.example',
  client_id: 'identity-service',
  scopes: [],
  redirect_uri: 'https://identity.example.org/api/sso/uni-example/callback',
  created_at: '2026-12-01T10:00:00.000Z',
  updated_at: '2026-12-01T10:00:00.000Z',
};

@ApiTags('portal: single sign-on')
@ApiBearerAuth()
@ErrorDialect('portal')
@Roles(['admin'])
@Controller('api/sso/providers')
@ApiErrors('portal')
export class SsoProvidersController {
  constructor(
    private readonly providers: SsoProvidersService,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'sso.providers.list',
    summary: 'The registered identity providers (admin); client secrets are never returned',
  })
  @ApiOkResponse({ type: [SsoProviderResponse], example: [EXAMPLE] })
  list(): Promise<SsoProviderView[]> {
    return this.providers.list();
  }

  @Post()
  @Sensitive({ action: 'a single sign-on provider was added' })
  @ApiOperation({
    operationId: 'sso.providers.create',
    summary: 'Register an identity provider (admin, aal2 when the admin has MFA on)',
    description:
      'OIDC: `issuer` (its discovery document is read now: an issuer whose discovery fails is a 400 that says ' +
      'why), `client_id`, `client_secret` (encrypted at rest, never returned), `scopes?`, `kind?` (`entra` with ' +
      '`allowed_tenants`; `google`: the ID token `hd` must be one of `domains`). SAML: `entry_point`, `idp_issuer`, ' +
      '`idp_certificate` (PEM). https, or http on loopback outside production. The answer names what to ' +
      'register at the provider: `redirect_uri` (OIDC) or `sp_entity_id`, `acs_url`, `metadata_url` (SAML).',
  })
  @ApiCreatedResponse({ type: SsoProviderResponse, example: EXAMPLE })
  async create(
    @Body() body: CreateSsoProviderDto,
    @CurrentUser() actor: AuthUser,
    @Req() req: FastifyRequest,
  ): Promise<SsoProviderView> {
    const view = await this.providers.create(body);
    await this.audit.record('sso_provider_created', { actorId: actor.id, ip: req.ip, details: { provider: view.id } });
    return view;
  }

  @Get(':id')
  @ApiOperation({ operationId: 'sso.providers.get', summary: 'One identity provider (admin)' })
  @ApiOkResponse({ type: SsoProviderResponse, example: EXAMPLE })
  get(@Param('id') id: string): Promise<SsoProviderView> {
    return this.providers.getView(id);
  }

  @Patch(':id')
  @Sensitive({ action: 'a single sign-on provider was changed' })
  @ApiOperation({
    operationId: 'sso.providers.update',
    summary: 'Change an identity provider (admin, aal2 when MFA is on)',
    description: 'Any field of the registration but `id` and `type`; a new issuer is discovered again.',
  })
  @ApiOkResponse({ type: SsoProviderResponse, example: EXAMPLE })
  async update(
    @Param('id') id: string,
    @Body() body: UpdateSsoProviderDto,
    @CurrentUser() actor: AuthUser,
    @Req() req: FastifyRequest,
  ): Promise<SsoProviderView> {
    const empty = emptyUpdateFields(body ?? {});
    if (empty.length) throw new DomainError('VALIDATION_ERROR', 'Invalid input data', empty);
    const view = await this.providers.update(id, body);
    await this.audit.record('sso_provider_updated', {
      actorId: actor.id,
      ip: req.ip,
      details: { provider: id, fields: Object.keys(body) },
    });
    return view;
  }

  @Delete(':id')
  @Sensitive({ action: 'a single sign-on provider was removed' })
  @HttpCode(204)
  @ApiOperation({
    operationId: 'sso.providers.remove',
    summary: 'Remove an identity provider and its account links (admin, aal2 when MFA is on)',
  })
  @ApiNoContentResponse()
  async remove(@Param('id') id: string, @CurrentUser() actor: AuthUser, @Req() req: FastifyRequest): Promise<void> {
    await this.providers.remove(id);
    await this.audit.record('sso_provider_deleted', { actorId: actor.id, ip: req.ip, details: { provider: id } });
  }
}
