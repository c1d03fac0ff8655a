import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '../config/config';
import { Role } from '../users/roles';

/** RFC 9068's media type for access tokens; the strategy refuses any JWT without it. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
export const JWT_ALGORITHM = 'HS256';

export type Aal = 'aal1' | 'aal2';

/** What a login session proved, as its access tokens state it. */
export interface Assurance {
  amr: string[];
  aal: 1 | 2;
}

export interface AccessTokenClaims {
  sub: string;
  sid: string;
  jti: string;
  role: Role;
  /** RFC 8176 authentication methods of the sign-in (`pwd`, `otp`, `sms`, `mfa`, ...). */
  amr: string[];
  /** NIST SP 800-63B authenticator assurance: `aal2` after a second factor. */
  aal: Aal;
  iat: number;
  exp: number;
  iss: string;
  aud: string;
  userId?: string;
}

@Injectable()
export class AccessTokensService {
  constructor(
    private readonly jwt: JwtService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Signs an access token for a login session; `extra` carries surface-specific claims (userId). */
  issue(
    user: { id: string; role: Role },
    sessionId: string,
    ttlSec: number,
    assurance: Assurance,
    extra: Record<string, unknown> = {},
  ): { token: string; expiresIn: number } {
    const token = this.jwt.sign(
      { ...extra, sub: user.id, sid: sessionId, role: user.role, amr: assurance.amr, aal: `aal${assurance.aal}` },
      {
        algorithm: JWT_ALGORITHM,
        expiresIn: ttlSec,
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
        jwtid: randomUUID(),
        header: { alg: JWT_ALGORITHM, typ: ACCESS_TOKEN_TYP },
      },
    );
    return { token, expiresIn: ttlSec };
  }
}
