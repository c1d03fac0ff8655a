import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { hashSecret, newSecret } from '../common/secrets';
import { APP_CONFIG, AppConfig } from '../config/config';
import { User } from '../users/entities/user.entity';
import { PublicUser, toPublicUser } from '../users/users.service';
import { AccessTokensService } from './access-tokens.service';
import { LoginSessionsService, OpenSessionInput } from './login-sessions.service';

export interface SignIn {
  method: 'password' | 'magic_link' | 'clinical';
  remember?: boolean;
  ip?: string | null;
  userAgent?: string | null;
  /** Surface-specific claims (the clinical `userId`). */
  claims?: Record<string, unknown>;
  audit?: OpenSessionInput['audit'];
}

/** The login body of API.md 1.1, shared by every way of signing in that yields a JWT. */
export interface LoginBody {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  refresh_token: string;
  user: PublicUser;
}

/**
 * Opens a login session and issues its first access and refresh tokens. The session outlives both its
 * access tokens and its refresh chain, so that revoking it reaches every token it ever issued.
 */
@Injectable()
export class SessionIssuer {
  constructor(
    private readonly accessTokens: AccessTokensService,
    private readonly sessions: LoginSessionsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  accessTtlSec(remember: boolean): number {
    return remember ? this.config.jwt.rememberExpiresInSec : this.config.jwt.expiresInSec;
  }

  /** Opens the session in `manager`'s transaction when given, so that it commits with the caller's work. */
  async signIn(user: User, how: SignIn, manager?: EntityManager): Promise<LoginBody> {
    const accessTtl = this.accessTtlSec(how.remember ?? false);
    const ttlMs = Math.max(accessTtl * 1000, this.config.ttlMs.refresh);
    const refresh = newSecret();
    const session = await this.sessions.open(
      {
        ...how,
        userId: user.id,
        ttlMs,
        // The session outlives its longest access token; the refresh chain ends REFRESH_TOKEN_TTL after login.
        refresh: { tokenHash: hashSecret(refresh), ttlMs: this.config.ttlMs.refresh },
      },
      manager,
    );
    return {
      ...this.accessBody(user, session.id, accessTtl, how.claims),
      refresh_token: refresh,
    };
  }

  /** A new access token for an existing session, in the login body's shape (without the refresh token). */
  accessBody(
    user: User,
    sessionId: string,
    ttlSec: number,
    claims?: Record<string, unknown>,
  ): Omit<LoginBody, 'refresh_token'> {
    const { token } = this.accessTokens.issue(user, sessionId, ttlSec, claims);
    return { access_token: token, token_type: 'bearer', expires_in: ttlSec, user: toPublicUser(user) };
  }
}
