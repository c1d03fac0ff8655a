import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { createSecretKey, type KeyObject } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { DomainError } from '../../common/errors/domain-error';
import { CredentialCache } from '../../common/credential-cache';
import { CredentialVerifier, VerifiesScheme } from '../../common/guards/credential-verifier';
import { ROLES, Role } from '../../users/roles';
import { AuthUser } from '../auth-user';
import { ACCESS_TOKEN_TYP, AccessTokenClaims } from '../access-tokens.service';
import { Hs256Expectations, verifyHs256 } from '../jwt-verify';
import { SessionRevocationService } from '../session-revocation.service';

const BEARER = /^bearer\s+(\S+)\s*$/i;
const VERIFIED_TOKENS_CACHED = 5_000;

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
type Claims = { userId: string; role: Role; sessionId: string; tokenId?: string };

/**
 * Access tokens: HS256 only (the algorithm is pinned, so `none` and key confusion fail), issuer, audience,
 * expiry (5 s of clock tolerance) and `typ` checked in memory; a revoked login session is refused at once
 * from the in-memory revocation set.
 */
@Injectable()
@VerifiesScheme('jwt')
export class JwtStrategy implements CredentialVerifier {
  private readonly key: KeyObject;
  private readonly expectations: Hs256Expectations;
  /**
   * Tokens that passed every check, until they expire: a client sends the same access token many times,
   * and a hit skips the HMAC and the parsing (measured: a third of the route's CPU). Revocation is still
   * checked on every request, and the claims are the token's own, so a hit is never staler than the token.
   */
  private readonly verified = new CredentialCache<Claims>(VERIFIED_TOKENS_CACHED, Infinity);

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly revocation: SessionRevocationService,
  ) {
    this.key = createSecretKey(config.jwt.secret);
    this.expectations = { issuer: config.jwt.issuer, audience: config.jwt.audience, clockToleranceSec: 5 };
  }

  verify(req: FastifyRequest): AuthUser {
    const bearer = bearerToken(req);
    const token = bearer ?? cookieToken(req);
    if (!token) throw new DomainError('INVALID_TOKEN', 'Access token is invalid');
    const claims = this.verified.get(token) ?? this.check(token);
    if (this.revocation.isRevoked(claims.sessionId)) {
      throw new DomainError('INVALID_TOKEN', 'Session has been revoked');
    }
    return {
      id: claims.userId,
      role: claims.role,
      scheme: 'jwt',
      sessionId: claims.sessionId,
      tokenId: claims.tokenId,
      viaCookie: bearer === undefined,
    };
  }

  private check(token: string): Claims {
    const check = verifyHs256(token, this.key, this.expectations, Math.floor(Date.now() / 1000));
    if (!check.ok) {
      throw check.expired
        ? new DomainError('TOKEN_EXPIRED', 'Access token has expired')
        : new DomainError('INVALID_TOKEN', 'Access token is invalid');
    }
    const header = check.header;
    const payload = check.payload as unknown as AccessTokenClaims;
    if (header.typ !== ACCESS_TOKEN_TYP) throw new DomainError('INVALID_TOKEN', 'Token is not an access token');
    if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string' || !ROLES.includes(payload.role)) {
      throw new DomainError('INVALID_TOKEN', 'Token is missing required claims');
    }
    const claims: Claims = { userId: payload.sub, role: payload.role, sessionId: payload.sid, tokenId: payload.jti };
    // Kept until the moment the full check would call it expired.
    this.verified.set(token, claims, (payload.exp + this.expectations.clockToleranceSec) * 1000);
    return claims;
  }
}
