import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AuditService } from '../audit/audit.service';
import { type AuthUser } from '../access/auth-user';
import { CurrentUser, Roles, Sensitive } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { ApiErrors } from '../common/errors/error-responses';
import { OAuthClientsService } from './clients.service';
import {
  CreateOAuthClientDto,
  OAuthClientCreatedView,
  OAuthClientSecretView,
  OAuthClientView,
  OAuthErrorView,
  UpdateOAuthClientDto,
} from './dto';

/** The OAuth clients of the provider (API.md 15), registered by admins; every change is a sensitive action. */
@ApiTags('oauth: clients')
@ApiBearerAuth()
@ErrorDialect('portal')
@Roles(['admin'])
@ApiForbiddenResponse({ type: OAuthErrorView, description: 'not an admin, a delegated credential, or aal2 needed' })
@Controller('api/oauth/clients')
@ApiErrors('portal')
export class OAuthClientsController {
  constructor(
    private readonly clients: OAuthClientsService,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'oauth.clients.list',
    summary: 'The registered OAuth clients, the newest first (admin)',
  })
  @ApiOkResponse({ type: [OAuthClientView] })
  list(): Promise<OAuthClientView[]> {
    return this.clients.list();
  }

  @Post()
  @Sensitive({ action: 'an OAuth client was registered' })
  @ApiOperation({
    operationId: 'oauth.clients.create',
    summary: 'Register an OAuth client (admin, aal2 when the admin has MFA on)',
    description:
      'A confidential client gets `client_secret`, shown this once and stored hashed. Redirect URIs are matched ' +
      'byte for byte: https, or http on loopback outside production; no wildcard, fragment, userinfo or dot segment.',
  })
  @ApiCreatedResponse({ type: OAuthClientCreatedView })
  @ApiBadRequestResponse({ type: OAuthErrorView })
  async create(
    @Body() body: CreateOAuthClientDto,
    @CurrentUser() actor: AuthUser,
    @Req() req: FastifyRequest,
  ): Promise<OAuthClientCreatedView> {
    const created = await this.clients.create(body, actor.id);
    await this.audit.record('oauth_client_created', {
      actorId: actor.id,
      ip: req.ip,
      details: { client_id: created.client_id, type: created.type, grant_types: created.grant_types },
    });
    return created;
  }

  @Get(':id')
  @ApiOperation({ operationId: 'oauth.clients.get', summary: 'One OAuth client (admin); never its secret' })
  @ApiOkResponse({ type: OAuthClientView })
  @ApiNotFoundResponse({ type: OAuthErrorView })
  get(@Param('id') id: string): Promise<OAuthClientView> {
    return this.clients.get(id);
  }

  @Patch(':id')
  @Sensitive({ action: 'an OAuth client was changed' })
  @ApiOperation({
    operationId: 'oauth.clients.update',
    summary: 'Change an OAuth client (admin, aal2 when MFA is on); `enabled: false` disables it',
  })
  @ApiOkResponse({ type: OAuthClientView })
  @ApiBadRequestResponse({ type: OAuthErrorView })
  @ApiNotFoundResponse({ type: OAuthErrorView })
  async update(
    @Param('id') id: string,
    @Body() body: UpdateOAuthClientDto,
    @CurrentUser() actor: AuthUser,
    @Req() req: FastifyRequest,
  ): Promise<OAuthClientView> {
    const updated = await this.clients.update(id, body ?? {});
    await this.audit.record('oauth_client_updated', {
      actorId: actor.id,
      ip: req.ip,
      details: { client_id: id, fields: Object.keys(body ?? {}) },
    });
    return updated;
  }

  @Delete(':id')
  @Sensitive({ action: 'an OAuth client was disabled' })
  @HttpCode(204)
  @ApiOperation({
    operationId: 'oauth.clients.delete',
    summary: 'Disable an OAuth client (admin): its codes, tokens and consents end at once',
  })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: OAuthErrorView })
  async remove(@Param('id') id: string, @CurrentUser() actor: AuthUser, @Req() req: FastifyRequest): Promise<void> {
    await this.clients.disable(id);
    await this.audit.record('oauth_client_disabled', { actorId: actor.id, ip: req.ip, details: { client_id: id } });
  }

  @Post(':id/secret')
  @Sensitive({ action: "an OAuth client's secret was replaced" })
  @ApiOperation({
    operationId: 'oauth.clients.rotateSecret',
    summary:
      'Replace the secret of a confidential client (admin): the new one is shown once, the old one stops working',
  })
  @ApiCreatedResponse({ type: OAuthClientSecretView })
  @ApiConflictResponse({ type: OAuthErrorView, description: 'a public client has no secret' })
  @ApiNotFoundResponse({ type: OAuthErrorView })
  async rotateSecret(
    @Param('id') id: string,
    @CurrentUser() actor: AuthUser,
    @Req() req: FastifyRequest,
  ): Promise<OAuthClientSecretView> {
    const result = await this.clients.rotateSecret(id);
    await this.audit.record('oauth_client_secret_rotated', {
      actorId: actor.id,
      ip: req.ip,
      details: { client_id: id },
    });
    return result;
  }
}
