import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { SkipDefaultRateLimit } from '../common/throttle/rate-limit.decorators';
import { ApiErrors } from '../common/errors/error-responses';
import { ProtectedResourceView, ProviderMetadataView } from './dto';
import { API_SCOPES, OAuthProviderService } from './provider.service';

const CACHEABLE = 'public, max-age=300';

const EXAMPLE = {
  issuer: 'https://id.example.org',
  authorization_endpoint: 'https://id.example.org/oauth/auth',
  token_endpoint: 'https://id.example.org/oauth/token',
  jwks_uri: 'https://id.example.org/.well-known/jwks.json',
  code_challenge_methods_supported: ['S256'],
};

/**
 * Discovery (API.md 15): the provider's metadata at the two standard addresses (OpenID Connect Discovery
 * and RFC 8414), whose `jwks_uri` is the service's one JWKS (section 10's keys and the provider's), and
 * the protected-resource metadata of our API (RFC 9728) that MCP clients start from.
 */
@ApiTags('oauth')
@ErrorDialect('portal')
@Public()
@SkipDefaultRateLimit()
@Controller('.well-known')
@ApiErrors('portal')
export class OAuthWellKnownController {
  constructor(private readonly oauth: OAuthProviderService) {}

  @Get('openid-configuration')
  @Header('Cache-Control', CACHEABLE)
  @Header('Access-Control-Allow-Origin', '*')
  @ApiOperation({
    operationId: 'oauth.discovery.openid',
    summary: "The OpenID provider's metadata (issuer OIDC_ISSUER); jwks_uri names the service's JWKS",
  })
  @ApiOkResponse({ type: ProviderMetadataView, example: EXAMPLE })
  openidConfiguration(): Promise<Record<string, unknown>> {
    return this.oauth.discovery();
  }

  @Get('oauth-authorization-server')
  @Header('Cache-Control', CACHEABLE)
  @Header('Access-Control-Allow-Origin', '*')
  @ApiOperation({
    operationId: 'oauth.discovery.authorizationServer',
    summary: 'The authorization server metadata (RFC 8414): the same document',
  })
  @ApiOkResponse({ type: ProviderMetadataView, example: EXAMPLE })
  authorizationServer(): Promise<Record<string, unknown>> {
    return this.oauth.discovery();
  }

  @Get('oauth-protected-resource')
  @Header('Cache-Control', CACHEABLE)
  @Header('Access-Control-Allow-Origin', '*')
  @ApiOperation({
    operationId: 'oauth.discovery.protectedResource',
    summary: "This service's API as a protected resource (RFC 9728): where MCP clients find its authorization server",
  })
  @ApiOkResponse({ type: ProtectedResourceView })
  protectedResource(): Record<string, unknown> {
    return this.resourceMetadata();
  }

  @Get('oauth-protected-resource/api')
  @Header('Cache-Control', CACHEABLE)
  @Header('Access-Control-Allow-Origin', '*')
  @ApiOperation({
    operationId: 'oauth.discovery.protectedResourceApi',
    summary: 'The same, at the address RFC 9728 derives from the resource `${APP_URL}/api`',
  })
  @ApiOkResponse({ type: ProtectedResourceView, description: 'as /.well-known/oauth-protected-resource' })
  protectedResourceApi(): Record<string, unknown> {
    return this.resourceMetadata();
  }

  private resourceMetadata(): Record<string, unknown> {
    return {
      resource: this.oauth.apiResource,
      authorization_servers: [this.oauth.issuer],
      scopes_supported: API_SCOPES,
      bearer_methods_supported: ['header'],
      resource_signing_alg_values_supported: ['ES256'],
      resource_name: 'Identity service API',
    };
  }
}
