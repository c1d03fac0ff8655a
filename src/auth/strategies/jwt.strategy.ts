import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { createSecretKey } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { DomainError } from '../../common/errors/domain-error';
import { ROLES, Role } from '../../users/roles';
import { AuthUser } from '../auth-user';
import { ACCESS_TOKEN_TYP, AccessTokenClaims, JWT_ALGORITHM } from '../access-tokens.service';
import { SessionRevocationService } from '../session-revocation.service';

const fromBearer = ExtractJwt.fromAuthHeaderAsBearerToken();

/** The access token from `Authorization: Bearer`, or else from the `auth_token` cookie. */
export function extractAccessToken(req: FastifyRequest): string | null {
  const bearer = fromBearer(req as never);
  if (bearer) return bearer;
  return (req as FastifyRequest & { cookies?: Record<string, string | undefined> }).cookies?.auth_token ?? null;
}

interface CompleteJwt {
  header: { alg?: string; typ?: string };
  payload: AccessTokenClaims;
}

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly revocation: SessionRevocationService,
  ) {
    super({
      jwtFromRequest: extractAccessToken as never,
      // A KeyObject, not a string: jsonwebtoken would otherwise try to parse the secret as a PEM key on
      // every call (ARCHITECTURE.md, measured: ten times slower).
      secretOrKey: createSecretKey(config.jwt.secret) as never,
      algorithms: [JWT_ALGORITHM],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      ignoreExpiration: false,
      passReqToCallback: true,
      jsonWebTokenOptions: { complete: true, clockTolerance: 5 } as never,
    });
  }

  validate(req: FastifyRequest, jwt: CompleteJwt): AuthUser {
    const { header, payload } = jwt;
    if (header.typ !== ACCESS_TOKEN_TYP) throw new DomainError('INVALID_TOKEN', 'Token is not an access token');
    if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string' || !ROLES.includes(payload.role)) {
      throw new DomainError('INVALID_TOKEN', 'Token is missing required claims');
    }
    if (this.revocation.isRevoked(payload.sid)) throw new DomainError('INVALID_TOKEN', 'Session has been revoked');
    return {
      id: payload.sub,
      role: payload.role as Role,
      scheme: 'jwt',
      sessionId: payload.sid,
      tokenId: payload.jti,
      viaCookie: !fromBearer(req as never),
    };
  }
}
