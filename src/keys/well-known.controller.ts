import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../access/decorators';
import { ErrorDialect } from '../common/decorators/error-dialect.decorator';
import { SkipDefaultRateLimit } from '../common/throttle/rate-limit.decorators';
import { PublicJwk, SigningKeysService } from './signing-keys.service';
import { JwksResponse } from './keys.responses';
import { ApiErrors } from '../common/errors/error-responses';

/**
 * Five minutes, as API.md 10 promises: a new key is published JWT_KEY_PUBLISH_AHEAD (10 minutes by
 * default) before it signs, so a cache this old already holds it. These two documents override the
 * `no-store` that every other JSON response carries: they hold nothing secret and are meant to be cached.
 */
const CACHEABLE = 'public, max-age=300';

/**
 * The discovery documents (`/.well-known/openid-configuration`, `oauth-authorization-server`) are the
 * OAuth provider's since API.md 15 (src/oauth/well-known.controller.ts); their `jwks_uri` is this JWKS.
 */
@ApiTags('keys')
@ErrorDialect('portal')
@Public()
// Fetched by resource servers (many behind one address) and cached by them; cheap to answer.
@SkipDefaultRateLimit()
@Controller('.well-known')
@ApiErrors('portal')
export class WellKnownController {
  constructor(private readonly keys: SigningKeysService) {}

  @Get('jwks.json')
  @Header('Cache-Control', CACHEABLE)
  @Header('Access-Control-Allow-Origin', '*')
  @ApiOperation({
    operationId: 'wellKnown.jwks',
    summary: 'The public keys that verify access tokens (RFC 7517), cacheable for 5 minutes',
    description:
      'With JWT_ALGORITHM=ES256: every key published and not expired, the next one before it signs and a ' +
      'retired one until its last token has expired (with HS256 none: the shared secret is never published); then the ' +
      "OAuth provider's ES256 and RS256 keys (API.md 15), under the same rules.",
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
}
