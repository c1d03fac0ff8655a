import { Controller, Delete, Get, HttpCode, Param, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { type AuthUser } from '../access/auth-user';
import { CurrentUser } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { ApiErrors } from '../common/errors/error-responses';
import { OAuthErrorView, OAuthGrantView } from './dto';
import { GrantsService } from './grants.service';

/** "Applications with access" on the account page (API.md 15): the caller's own consents. */
@ApiTags('oauth: applications with access')
@ApiBearerAuth()
@ErrorDialect('portal')
@Controller('api/oauth/grants')
@ApiErrors('portal')
export class OAuthGrantsController {
  constructor(private readonly grants: GrantsService) {}

  @Get()
  @ApiOperation({ operationId: 'oauth.grants.list', summary: 'The applications that the caller has let act for them' })
  @ApiOkResponse({ type: [OAuthGrantView] })
  list(@CurrentUser() user: AuthUser): Promise<OAuthGrantView[]> {
    return this.grants.list(user.id);
  }

  @Delete(':clientId')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'oauth.grants.revoke',
    summary: "Take back an application's access: its consent, codes and tokens for the caller end at once",
  })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: OAuthErrorView })
  revoke(
    @Param('clientId') clientId: string,
    @CurrentUser() user: AuthUser,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    return this.grants.revoke(user, clientId, req.ip);
  }
}
