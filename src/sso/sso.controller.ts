import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiConsumes,
  ApiFoundResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiProperty,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { IsEmail, MaxLength } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthedRequest } from '../access/auth-user';
import { cookieOf, setAuthCookies } from '../access/cookies';
import { CurrentUser, Public } from '../access/decorators';
import { LoginBody } from '../sessions/session-issuer.service';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { DomainError } from '../common/errors/domain-error';
import { RateLimited } from '../common/throttle/rate-limit.decorators';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { SsoTokenDto } from './dto';
import { BROWSER_COOKIE, FLOW_TTL_SEC } from './flows.service';
import { SsoProvidersService } from './providers.service';
import { SsoCodeGuard, SsoPrincipal } from './sso-code.strategy';
import { Redirect, SsoService } from './sso.service';
import { Transform } from 'class-transformer';
import { toIdentifier } from '../common/identifiers';
import { clientInfo } from '../access/client-info';
import { ApiErrors, PortalError } from '../common/errors/error-responses';
import { SsoDiscoveryResponse } from './sso.responses';
import { LoginResponse } from '../auth/auth.responses';

class DiscoverQuery {
  @ApiProperty({ format: 'email', description: 'The address whose domain names the provider' })
  @Transform(toIdentifier)
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(320)
  email!: string;
}

@ApiTags('portal: single sign-on')
@ErrorDialect('portal')
@Controller('api/sso')
@ApiErrors('portal')
export class SsoController {
  constructor(
    private readonly sso: SsoService,
    private readonly providers: SsoProvidersService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('discover')
  @Public()
  @ApiOperation({
    operationId: 'sso.discover',
    summary: 'The identity provider that serves an address\'s domain (for a "sign in with your institution" button)',
  })
  @ApiNotFoundResponse({ type: PortalError, description: 'no provider serves that domain' })
  @ApiOkResponse({
    type: SsoDiscoveryResponse,
    example: { provider: 'uni-example', name: 'University of Example', type: 'oidc' },
  })
  discover(@Query() query: DiscoverQuery): Promise<{ provider: string; name: string; type: string }> {
    return this.sso.discover(query.email);
  }

  @Get(':id/login')
  @Public()
  @ApiOperation({
    operationId: 'sso.login',
    summary: 'Start a sign-in at the provider: a 302 to it',
    description:
      'OIDC: authorization code with PKCE (S256), `state` and `nonce`; SAML: an AuthnRequest (HTTP-Redirect). ' +
      'The attempt lives 10 minutes server-side, works once, and is bound to this browser by the HttpOnly ' +
      `\`${BROWSER_COOKIE}\` cookie. \`redirect_uri\` must be under PORTAL_URL or at an origin of SSO_REDIRECT_ORIGINS ` +
      '(else 400): the browser comes back there with `?code=` (exchange it at POST /api/sso/token) or `?error=`.',
  })
  @ApiQuery({ name: 'redirect_uri', required: true, example: 'https://portal.example.org/sso/done' })
  @ApiFoundResponse({ description: 'to the provider' })
  async login(
    @Param('id') id: string,
    @Query('redirect_uri') redirectUri: string | undefined,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const target = await this.sso.login(
      id,
      typeof redirectUri === 'string' ? redirectUri : undefined,
      cookieOf(req, BROWSER_COOKIE),
    );
    this.redirect(reply, target);
  }

  @Get(':id/callback')
  @Public()
  @ApiOperation({
    operationId: 'sso.callback',
    summary: 'OIDC redirect URI: the provider sends the browser here',
    description:
      'The ID token is checked (signature by the JWKS, iss, aud, exp, nonce; Entra tenant, Google hd; email ' +
      'domain), then a 302 to `redirect_uri?code=<one-time code, 60 s>` or `redirect_uri?error=<code>`. A state ' +
      'that names no live attempt of this browser: 400 INVALID_STATE (there is no trusted place to go back to).',
  })
  @ApiFoundResponse({ description: 'back to the portal' })
  async callback(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(query ?? {})) if (typeof v === 'string') params[k] = v;
    this.redirect(reply, await this.sso.callback(id, params, cookieOf(req, BROWSER_COOKIE), clientInfo(req)));
  }

  @Post(':id/acs')
  @Public()
  @HttpCode(302)
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiOperation({
    operationId: 'sso.acs',
    summary: 'SAML assertion consumer service (HTTP-POST binding)',
    description:
      'Signed response or assertion by idp_certificate, audience, InResponseTo of the request this browser ' +
      'started, NotOnOrAfter, never twice; then a 302 as the OIDC callback.',
  })
  @ApiFoundResponse({ description: 'back to the portal' })
  async acs(
    @Param('id') id: string,
    @Body() body: Record<string, unknown>,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    this.redirect(reply, await this.sso.acs(id, body ?? {}, cookieOf(req, BROWSER_COOKIE), clientInfo(req)));
  }

  @Get(':id/metadata')
  @Public()
  @ApiProduces('application/samlmetadata+xml')
  @ApiOperation({
    operationId: 'sso.metadata',
    summary: 'SAML service provider metadata (entity id, ACS URL) to give the IdP',
  })
  @ApiOkResponse({ schema: { type: 'string' }, description: 'The metadata document (XML)' })
  async metadata(@Param('id') id: string, @Res() reply: FastifyReply): Promise<void> {
    const p = await this.providers.get(id);
    if (p.type !== 'saml') throw new DomainError('NOT_FOUND', 'No such SAML provider');
    reply.header('content-type', 'application/samlmetadata+xml; charset=utf-8').send(this.sso.metadata(p));
  }

  @Post('token')
  @Public()
  @UseGuards(SsoCodeGuard)
  @RateLimited(['loginIp'])
  @HttpCode(200)
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded')
  @ApiOperation({
    operationId: 'sso.token',
    summary: 'Exchange the one-time code for the login body of POST /api/auth/login',
    description:
      '`amr` holds `fed`. `remember` and `set_cookie` as on POST /api/auth/login. A user with MFA on gets 401 ' +
      'MFA_REQUIRED with the mfa_token of the second step (API.md 6). Used, expired or unknown code: 401 INVALID_TOKEN.',
  })
  @ApiUnauthorizedResponse({
    type: PortalError,
    example: { error: { code: 'INVALID_TOKEN', message: 'This code is invalid, expired or already used' } },
  })
  @ApiOkResponse({ type: LoginResponse })
  async token(
    @Body() body: SsoTokenDto,
    @CurrentUser() principal: AuthedRequest['user'],
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<LoginBody> {
    const options = { remember: body.remember ?? false, setCookie: body.set_cookie ?? false };
    const result = await this.sso.signIn(principal as unknown as SsoPrincipal, options, clientInfo(req));
    if (options.setCookie) setAuthCookies(reply, this.config, result);
    return result;
  }

  private redirect(reply: FastifyReply, target: Redirect): void {
    if (target.browser) {
      const secure = this.config.env !== 'development';
      reply.setCookie(BROWSER_COOKIE, target.browser, {
        httpOnly: true,
        secure,
        // The SAML ACS is a cross-site POST, which a Lax cookie would miss; None needs Secure, so plain-http
        // development (one site: loopback) keeps Lax.
        sameSite: secure ? 'none' : 'lax',
        path: '/api/sso',
        maxAge: FLOW_TTL_SEC,
      });
    }
    reply.code(302).header('location', target.location).header('cache-control', 'no-store').send();
  }
}
