import { Inject, Injectable, Optional } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import {
  JsonWebTokenError,
  TokenExpiredError,
  verify,
  type Algorithm,
  type Jwt,
  type VerifyOptions,
} from 'jsonwebtoken';
import { createSecretKey, type KeyObject } from 'node:crypto';
import { Strategy } from 'passport-jwt';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { DomainError } from '../common/errors/domain-error';
import { CredentialCache } from '../common/credential-cache';
import { ROLES, Role } from '../common/roles';
import { AuthUser } from '../access/auth-user';
import { ACCESS_TOKEN_TYP, AccessTokenClaims } from './access-tokens.service';
import { answeredFromCache, AppStrategy, Refuses, SchemeStrategy } from '../access/passport';
import { SessionRevocationService } from './session-revocation.service';
import { SigningKeysService } from '../keys/signing-keys.service';
import { type Aal } from '../access/auth-user';

const BEARER = /^bearer\s+(\S+)\s*$/i;
const VERIFIED_TOKENS_CACHED = 5_000;
const CLOCK_TOLERANCE_SEC = 5;

/** The bearer token of the Authorization header, if that is what the header holds. */
function bearerToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  return typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
}

/** The `auth_token` cookie, read when no bearer token is presented. */
function cookieToken(req: FastifyRequest): string | null {
  return (req as FastifyRequest & { cookies?: Record<string, string | undefined> }).cookies?.auth_token ?? null;
}

/** The access token from `Authorization: Bearer`, or else from the `auth_token` cookie. */
export function extractAccessToken(req: FastifyRequest): string | null {
  return bearerToken(req) ?? cookieToken(req);
}

/** What a verified token says of its caller; `userId` is the credential cache's key for invalidation. */
type Claims = { userId: string; role: Role; sessionId: string; tokenId?: string; aal: Aal; authTime: number };

type KeyCallback = (err: Error | null, key?: KeyObject) => void;

/**
 * passport-jwt's `secretOrKeyProvider` for ES256: the key of the token's `kid`, looked up in the in-memory
 * key set from a header that is not trusted yet (an unknown kid, an alg that is not the key's, a key not
 * published: refused). A kid of our shape that is not known here may be a key made by another instance a
 * moment ago, so the rows are read again (at most once a second) before it is refused.
 */
function keyOfToken(keys: SigningKeysService) {
  return (_req: unknown, token: string, done: KeyCallback): void => {
    const found = keys.verificationKey(token);
    if ('key' in found) return done(null, found.key);
    if (!found.unknownKid) return done(new JsonWebTokenError(found.refused));
    keys.reloadForUnknownKid().then(
      () => {
        const again = keys.verificationKey(token);
        done('key' in again ? null : new JsonWebTokenError(again.refused), 'key' in again ? again.key : undefined);
      },
      (e: Error) => done(e),
    );
  };
}

/**
 * Access tokens, checked by passport-jwt (jsonwebtoken underneath): the algorithm is pinned (HS256 with
 * JWT_SECRET, or ES256 with the key of the token's kid), so `none` and key confusion fail; issuer,
 * audience, expiry and `nbf` (5 s of clock tolerance); then `typ` and the claims here, and a revoked
 * login session is refused at once from the in-memory set.
 */
@Injectable()
@SchemeStrategy('jwt')
export class JwtStrategy extends AppStrategy(Strategy) implements Refuses {
  /** JWT_SECRET with HS256; null with ES256, where each token's kid names its key. */
  private readonly key: KeyObject | null;
  private readonly verifyOptions: VerifyOptions & { complete: true };
  /**
   * Tokens that passed every check, until they expire: a client sends the same access token many times,
   * and a hit skips the library's verification (about 40 µs a request in the service). Revocation is still
   * checked on every request, and the claims are the token's own, so a hit is never staler than the token.
   */
  private readonly verified = new CredentialCache<Claims>(VERIFIED_TOKENS_CACHED, Infinity);

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly revocation: SessionRevocationService,
    // Needed with ES256 only (the unit specs of the HS256 strategy give none).
    @Optional() private readonly keys?: SigningKeysService,
  ) {
    // A KeyObject, not the secret's bytes: jsonwebtoken tries createPublicKey on a string or Buffer first.
    const key = createSecretKey(config.jwt.secret);
    const asymmetric = config.jwt.algorithm !== 'HS256';
    if (asymmetric && !keys) throw new Error(`JWT_ALGORITHM ${config.jwt.algorithm} needs the signing keys`);
    const verifyOptions = {
      algorithms: [config.jwt.algorithm] as Algorithm[],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      clockTolerance: CLOCK_TOLERANCE_SEC,
      complete: true as const,
    };
    super({
      jwtFromRequest: extractAccessToken,
      ...(asymmetric ? { secretOrKeyProvider: keyOfToken(keys!) as never } : { secretOrKey: key as unknown as string }),
      algorithms: verifyOptions.algorithms,
      issuer: verifyOptions.issuer,
      audience: verifyOptions.audience,
      jsonWebTokenOptions: verifyOptions,
      passReqToCallback: true,
    });
    this.key = asymmetric ? null : key;
    this.verifyOptions = verifyOptions;
    // Tokens verified with a key that has since left the JWKS early must be verified again.
    keys?.onKeysShrunk(() => this.verified.clear());
  }

  /** A token already verified skips passport-jwt's verification; every other goes through it. */
  authenticate(request: Parameters<Strategy['authenticate']>[0], options?: unknown): void {
    const req = request as unknown as FastifyRequest;
    const bearer = bearerToken(req);
    const token = bearer ?? cookieToken(req);
    const claims = token === null ? undefined : this.verified.get(token);
    if (!answeredFromCache(this, () => claims && this.userOf(claims, bearer === undefined))) {
      super.authenticate(request, options);
    }
  }

  /** passport-jwt's verify callback, with the request and the whole verified token (`complete`). */
  validate(req: FastifyRequest, decoded: Jwt): AuthUser {
    const bearer = bearerToken(req);
    return this.userOf(this.accept((bearer ?? cookieToken(req)) as string, decoded), bearer === undefined);
  }

  refusal(info: unknown): DomainError {
    return info instanceof TokenExpiredError
      ? new DomainError('TOKEN_EXPIRED', 'Access token has expired')
      : new DomainError('INVALID_TOKEN', 'Access token is invalid');
  }

  /**
   * The user id of a valid access token, for the per-caller rate limit (which runs before authentication);
   * a token that fails any check has none.
   */
  callerOf(req: FastifyRequest): string | undefined {
    const token = extractAccessToken(req);
    if (token === null) return undefined;
    const cached = this.verified.get(token);
    if (cached) return cached.userId;
    try {
      let key = this.key;
      if (key === null) {
        const found = this.keys!.verificationKey(token);
        if (!('key' in found)) return undefined;
        key = found.key;
      }
      return this.accept(token, verify(token, key, this.verifyOptions)).userId;
    } catch {
      return undefined;
    }
  }

  private userOf(claims: Claims, viaCookie: boolean): AuthUser {
    if (this.revocation.isRevoked(claims.sessionId)) {
      throw new DomainError('INVALID_TOKEN', 'Session has been revoked');
    }
    return {
      id: claims.userId,
      role: claims.role,
      scheme: 'jwt',
      kind: 'sign-in',
      authTime: claims.authTime,
      sessionId: claims.sessionId,
      tokenId: claims.tokenId,
      aal: claims.aal,
      viaCookie,
    };
  }

  /** The checks jsonwebtoken does not make (media type, our claims); a token that passes is cached. */
  private accept(token: string, decoded: Jwt): Claims {
    if (decoded.header.typ !== ACCESS_TOKEN_TYP) throw new DomainError('INVALID_TOKEN', 'Token is not an access token');
    const payload = decoded.payload as Partial<AccessTokenClaims>;
    if (
      typeof payload.sub !== 'string' ||
      typeof payload.sid !== 'string' ||
      typeof payload.exp !== 'number' ||
      !ROLES.includes(payload.role as Role)
    ) {
      throw new DomainError('INVALID_TOKEN', 'Token is missing required claims');
    }
    const claims: Claims = {
      userId: payload.sub,
      role: payload.role as Role,
      sessionId: payload.sid,
      tokenId: payload.jti,
      // Only a token that says so is aal2; a token from before assurance claims existed is aal1.
      aal: payload.aal === 'aal2' ? 'aal2' : 'aal1',
      // A token from before auth_time existed was issued at its sign-in or a refresh: iat is the latest it can be.
      authTime: typeof payload.auth_time === 'number' ? payload.auth_time : (payload.iat ?? 0),
    };
    // Kept until the moment the library would call it expired.
    this.verified.set(token, claims, (payload.exp + CLOCK_TOLERANCE_SEC) * 1000);
    return claims;
  }
}
