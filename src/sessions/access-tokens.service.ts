import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { SigningKeysService } from '../keys/signing-keys.service';
import { Role } from '../common/roles';
import type { Aal } from '../access/auth-user';

/** RFC 9068's media type for access tokens; the strategy refuses any JWT without it. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
export const JWT_ALGORITHM = 'HS256';

/** What a login session proved, as its access tokens state it. */
export interface Assurance {
  amr: string[];
  aal: 1 | 2;
  /** When the person proved who they are (seconds since the epoch): the sign-in's time, kept by refreshes. */
  authTime: number;
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
  /** OIDC Core's auth_time: when the person last proved who they are; a refresh keeps it (API.md 12). */
  auth_time: number;
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
    private readonly keys: SigningKeysService,
  ) {}

  /** Signs an access token for a login session; `extra` carries surface-specific claims (userId). */
  issue(
    user: { id: string; role: Role },
    sessionId: string,
    ttlSec: number,
    assurance: Assurance,
    extra: Record<string, unknown> = {},
  ): { token: string; expiresIn: number } {
    const payload = {
      ...extra,
      sub: user.id,
      sid: sessionId,
      role: user.role,
      amr: assurance.amr,
      aal: `aal${assurance.aal}`,
      auth_time: assurance.authTime,
    };
    const options = {
      expiresIn: ttlSec,
      issuer: this.config.jwt.issuer,
      audience: this.config.jwt.audience,
      jwtid: randomUUID(),
    };
    if (!this.keys.asymmetric) {
      // HS256 with JWT_SECRET, the module's key: no kid, since the secret is never published.
      const token = this.jwt.sign(payload, {
        ...options,
        algorithm: JWT_ALGORITHM,
        header: { alg: JWT_ALGORITHM, typ: ACCESS_TOKEN_TYP },
      });
      return { token, expiresIn: ttlSec };
    }
    // The key that signs now (the same on every instance at this moment), named by its kid.
    const key = this.keys.current();
    const token = this.jwt.sign(payload, {
      ...options,
      privateKey: key.privateKey,
      algorithm: key.alg,
      keyid: key.kid,
      header: { alg: key.alg, typ: ACCESS_TOKEN_TYP, kid: key.kid },
    });
    return { token, expiresIn: ttlSec };
  }
}
