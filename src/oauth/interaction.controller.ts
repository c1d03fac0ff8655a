import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import {
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AuthedRequest, type AuthUser } from '../access/auth-user';
import { CurrentUser, Public } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { ApiErrors } from '../common/errors/error-responses';
import { OAuthErrorView } from './dto';
import { InteractionsService } from './interactions.service';

export class InteractionDetailsView {
  @ApiProperty({ enum: ['login', 'consent'] }) prompt!: string;
  @ApiProperty({ type: [String], example: ['max_age'] }) reasons!: string[];
  @ApiProperty() client_id!: string;
  @ApiProperty() client_name!: string;
  @ApiProperty({ type: [String], example: ['openid', 'email'] }) scopes!: string[];
  @ApiProperty({ description: 'the client asked for a second factor (acr_values=aal2)' }) aal2_requested!: boolean;
}

export class InteractionResultView {
  @ApiProperty({ description: 'where the browser goes next (back to the authorization endpoint)' })
  redirect_to!: string;
}

/**
 * What the page of an authorization request (API.md 15, InteractionPageController) calls: it signs the
 * person in with the account page's own sign-in (password, passkey, SSO, magic link, the second step),
 * then tells the provider who signed in (`login`, with the sign-in cookie) and what the person allowed
 * (`consent`). The provider binds each interaction to the browser that started it by its own cookie.
 */
@ApiTags('oauth')
@ErrorDialect('portal')
@Controller('interaction')
@ApiErrors('portal')
export class InteractionController {
  constructor(private readonly interactions: InteractionsService) {}

  @Get(':uid/details')
  @Public()
  @ApiOperation({
    operationId: 'oauth.interaction.details',
    summary: 'What the authorization request asks for, for its page',
  })
  @ApiOkResponse({ type: InteractionDetailsView })
  @ApiNotFoundResponse({ type: OAuthErrorView, description: 'no such interaction in this browser, or it has expired' })
  details(
    @Param('uid') uid: string,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<InteractionDetailsView> {
    return this.interactions.details(uid, req.raw, reply.raw);
  }

  @Post(':uid/login')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'oauth.interaction.login',
    summary: 'The signed-in person (the auth_token cookie) is who the authorization request signs in',
    description:
      '401 when the sign-in is older than the request allows (prompt=login, max_age): sign in again; 403 ' +
      'MFA_STEP_UP_REQUIRED when acr_values asked aal2 and the sign-in had no second factor.',
  })
  @ApiOkResponse({ type: InteractionResultView })
  @ApiUnauthorizedResponse({ type: OAuthErrorView })
  @ApiForbiddenResponse({ type: OAuthErrorView })
  login(
    @Param('uid') uid: string,
    @CurrentUser() user: AuthUser,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<InteractionResultView> {
    return this.interactions.login(uid, user, req, reply.raw);
  }

  @Post(':uid/consent')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'oauth.interaction.consent',
    summary: 'The signed-in person allows what the client asked for',
  })
  @ApiOkResponse({ type: InteractionResultView })
  @ApiForbiddenResponse({ type: OAuthErrorView })
  consent(
    @Param('uid') uid: string,
    @CurrentUser() user: AuthUser,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<InteractionResultView> {
    return this.interactions.consent(uid, user, req, reply.raw);
  }

  @Post(':uid/abort')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'oauth.interaction.abort',
    summary: 'The person refuses: the client gets access_denied',
  })
  @ApiOkResponse({ type: InteractionResultView })
  abort(
    @Param('uid') uid: string,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<InteractionResultView> {
    return this.interactions.abort(uid, req.raw, reply.raw);
  }
}
