import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { TokenExpiredError, verify, type Algorithm, type Jwt, type VerifyOptions } from 'jsonwebtoken';
import { createSecretKey, type KeyObject } from 'node:crypto';
import { Strategy } from 'passport-jwt';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { DomainError } from '../../common/errors/domain-error';
import { CredentialCache } from '../../common/credential-cache';
import { ROLES, Role } from '../../users/roles';
import { AuthUser } from '../auth-user';
import { ACCESS_TOKEN_TYP, AccessTokenClaims, JWT_ALGORITHM } from '../access-tokens.service';
import { answeredFromCache, AppStrategy, Refuses, SchemeStrategy } from '../passport';
import { SessionRevocationService } from '../session-revocation.service';

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
type Claims = { userId: string; role: Role; sessionId: string; tokenId?: string; aal: 'aal1' | 'aal2' };

/**
 * Access tokens, checked by passport-jwt (jsonwebtoken underneath): HS256 only (the algorithm is pinned,
 * so `none` and key confusion fail), issuer, audience, expiry and `nbf` (5 s of clock tolerance); then
 * `typ` and the claims here, and a revoked login session is refused at once from the in-memory set.
 */
@Injectable()
@SchemeStrategy('jwt')
export class JwtStrategy extends AppStrategy(Strategy) implements Refuses {
  private readonly key: KeyObject;
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
  ) {
    // A KeyObject, not the secret's bytes: jsonwebtoken tries createPublicKey on a string or Buffer first.
    const key = createSecretKey(config.jwt.secret);
    const verifyOptions = {
      algorithms: [JWT_ALGORITHM] as Algorithm[],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      clockTolerance: CLOCK_TOLERANCE_SEC,
      complete: true as const,
    };
    super({
      jwtFromRequest: extractAccessToken,
      secretOrKey: key as unknown as string,
      algorithms: verifyOptions.algorithms,
      issuer: verifyOptions.issuer,
      audience: verifyOptions.audience,
      jsonWebTokenOptions: verifyOptions,
      passReqToCallback: true,
    });
    this.key = key;
    this.verifyOptions = verifyOptions;
  }

  /** A token already verified skips passport-jwt's verification; every other goes through it. */
  authenticate(request: Parameters<Strategy['authenticate']>[0], options?: unknown): void {
    const req = request as unknown as FastifyRequest;
    const token = extractAccessToken(req);
    const claims = token === null ? undefined : this.verified.get(token);
    if (!answeredFromCache(this, () => claims && this.userOf(claims, req))) super.authenticate(request, options);
  }

  /** passport-jwt's verify callback, with the request and the whole verified token (`complete`). */
  validate(req: FastifyRequest, decoded: Jwt): AuthUser {
    return this.userOf(this.accept(extractAccessToken(req) as string, decoded), req);
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
      return this.accept(token, verify(token, this.key, this.verifyOptions)).userId;
    } catch {
      return undefined;
    }
  }

  private userOf(claims: Claims, req: FastifyRequest): AuthUser {
    if (this.revocation.isRevoked(claims.sessionId)) {
      throw new DomainError('INVALID_TOKEN', 'Session has been revoked');
    }
    return {
      id: claims.userId,
      role: claims.role,
      scheme: 'jwt',
      sessionId: claims.sessionId,
      tokenId: claims.tokenId,
      aal: claims.aal,
      viaCookie: bearerToken(req) === undefined,
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
    };
    // Kept until the moment the library would call it expired.
    this.verified.set(token, claims, (payload.exp + CLOCK_TOLERANCE_SEC) * 1000);
    return claims;
  }
}
