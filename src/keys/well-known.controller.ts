import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { SkipDefaultRateLimit } from '../common/throttle/rate-limit.decorators';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { PublicJwk, SigningKeysService } from './signing-keys.service';
import { DiscoveryDocumentResponse, JwksResponse } from '../keys/keys.responses';
import { ApiErrors } from '../common/errors/error-responses';

/**
 * Five minutes, as API.md 10 promises: a new key is published JWT_KEY_PUBLISH_AHEAD (10 minutes by
 * default) before it signs, so a cache this old already holds it. These two documents override the
 * `no-store` that every other JSON response carries: they hold nothing secret and are meant to be cached.
 */
const CACHEABLE = 'public, max-age=300';

/** The claims of an access token (API.md 0 and 6). */
const CLAIMS = ['sub', 'sid', 'jti', 'role', 'amr', 'aal', 'iat', 'exp', 'iss', 'aud'];

@ApiTags('keys')
@ErrorDialect('portal')
@Public()
// Fetched by resource servers (many behind one address) and cached by them; cheap to answer.
@SkipDefaultRateLimit()
@Controller('.well-known')
@ApiErrors('portal')
export class WellKnownController {
  private readonly discovery: Record<string, unknown>;

  constructor(
    private readonly keys: SigningKeysService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.discovery = {
      // The `iss` of every access token, so that a verifier configured from this document accepts them.
      issuer: config.jwt.issuer,
      jwks_uri: `${config.appUrl}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: [config.jwt.algorithm],
      subject_types_supported: ['public'],
      claims_supported: CLAIMS,
    };
  }

  @Get('jwks.json')
  @Header('Cache-Control', CACHEABLE)
  @Header('Access-Control-Allow-Origin', '*')
  @ApiOperation({
    operationId: 'wellKnown.jwks',
    summary: 'The public keys that verify access tokens (RFC 7517), cacheable for 5 minutes',
    description:
      'With JWT_ALGORITHM=ES256: every key published and not expired, the next one before it signs and a ' +
      'retired one until its last token has expired. With HS256 the list is empty: the shared secret is never published.',
  })
  @ApiOkResponse({
    type: JwksResponse,
    example: {
      keys: [{ kty: 'EC', crv: 'P-256', x: '...', y: '...', kid: 'Qm9v...', alg: 'ES256', use: 'sig' }],
    },
  })
  jwks(): { keys: PublicJwk[] } {
    return this.keys.jwks();
  }

  @Get('openid-configuration')
  @Header('Cache-Control', CACHEABLE)
  @Header('Access-Control-Allow-Origin', '*')
  @ApiOperation({
    operationId: 'wellKnown.openidConfiguration',
    summary: 'Discovery: the issuer of access tokens, where their keys are, and the signing algorithm',
    description:
      '`issuer` is JWT_ISSUER (the `iss` of every token); `jwks_uri` is under APP_URL. Not a full OpenID ' +
      'provider: there is no authorization endpoint and no ID token, only access tokens that other services verify.',
  })
  @ApiOkResponse({
    type: DiscoveryDocumentResponse,
    example: {
      issuer: 'https://id.example.org',
      jwks_uri: 'https://id.example.org/.well-known/jwks.json',
      id_token_signing_alg_values_supported: ['ES256'],
    },
  })
  openidConfiguration(): Record<string, unknown> {
    return this.discovery;
  }
}
