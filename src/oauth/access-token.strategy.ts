import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import type { AuthUser } from '../access/auth-user';
import { AppStrategy, SchemeStrategy } from '../access/passport';
import { DomainError } from '../common/errors/domain-error';
import { APP_CONFIG, type AppConfig } from '../config/config';
import type { Role } from '../common/roles';
import { API_SCOPES } from './provider.service';
import { OAuthRepository } from './oauth.repository';
import { ProviderKeysService } from '../keys/provider-keys.service';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Clock skew tolerated on `exp`, `nbf` and `iat`. */
const SKEW_SEC = 5;
/** A token looked up within the last second answers from memory; revocation shows within that second. */
const CACHE_MS = 1000;
const CACHE_MAX = 10_000;

const invalid = (message: string) => new DomainError('INVALID_TOKEN', message);

/**
 * The provider's access tokens as credentials of this service's API (API.md 12 and 15): RFC 9068 JWTs
 * signed with the provider's ES256 key, issued by OIDC_ISSUER for the resource `${APP_URL}/api`. Each is a
 * *delegated* credential: it acts for its user on data, never on who the user is or how the account is
 * protected, and within its scopes: `api:read` reads (GET, HEAD), `api:write` may also change. The token
 * must still be on record (not revoked), its grant too (not taken back, not ended by a code's reuse), its
 * client enabled and its user active.
 */
@Injectable()
@SchemeStrategy('oauth')
export class OAuthAccessTokenStrategy extends AppStrategy(Strategy) {
  private readonly issuer: string;
  private readonly audience: string;
  private readonly cache = new Map<string, { until: number; id: string; role: Role }>();

  constructor(
    private readonly keys: ProviderKeysService,
    private readonly repo: OAuthRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    super();
    this.issuer = config.oauth.issuer;
    this.audience = `${config.appUrl}/api`;
  }

  async validate(req: FastifyRequest): Promise<AuthUser> {
    const authorization = req.headers.authorization ?? '';
    const token = authorization.slice(authorization.indexOf(' ') + 1).trim();
    if (token.split('.').length !== 3) throw invalid('Malformed access token');
    const claims = this.keys.verifiedClaims(token, this.issuer);
    if (!claims) throw invalid('Invalid access token (signature, key or issuer)');
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp + SKEW_SEC <= now) {
      throw new DomainError('TOKEN_EXPIRED', 'Access token expired');
    }
    if (typeof claims.nbf === 'number' && claims.nbf - SKEW_SEC > now) throw invalid('Access token not yet valid');
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(this.audience)) throw invalid('Access token for another resource');
    if (typeof claims.sub !== 'string' || claims.sub === claims.client_id) {
      // A client-credentials token acts for no user; this API acts only for users.
      throw invalid('This access token acts for no user');
    }
    const scopes =
      typeof claims.scope === 'string' ? claims.scope.split(' ').filter((s) => API_SCOPES.includes(s)) : [];
    if (!scopes.length) throw new DomainError('FORBIDDEN', 'This access token has no scope of this API');
    if (!SAFE_METHODS.has(req.method) && !scopes.includes('api:write')) {
      throw new DomainError('FORBIDDEN', 'This access token may only read (scope api:read): changes need api:write');
    }
    const holder = await this.holder(claims.jti);
    if (!holder || holder.id !== claims.sub) throw invalid('Access token revoked');
    return {
      id: holder.id,
      role: holder.role,
      scheme: 'oauth',
      kind: 'delegated',
      aal: 'aal1',
      credentialId: claims.jti,
      clientId: typeof claims.client_id === 'string' ? claims.client_id : undefined,
      scopes,
    };
  }

  /** The token's user when the token is still on record, its client enabled and its user active. */
  private async holder(jti: string): Promise<{ id: string; role: Role } | undefined> {
    const now = Date.now();
    const hit = this.cache.get(jti);
    if (hit && hit.until > now) return hit;
    const row = await this.repo.accessTokenHolder(jti);
    if (!row) {
      this.cache.delete(jti);
      return undefined;
    }
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    const entry = { until: now + CACHE_MS, ...row };
    this.cache.set(jti, entry);
    return entry;
  }

  refusal(): DomainError {
    return invalid('Credentials are invalid');
  }
}
