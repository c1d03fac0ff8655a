import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { hashSecret, newSecret } from '../common/secrets';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { User } from '../users/entities/user.entity';
import { PublicUser, toPublicUser } from '../users/users.service';
import { AccessTokensService, Assurance } from './access-tokens.service';
import { LoginSessionsService, OpenSessionInput } from './login-sessions.service';

/** How a login session began (its `method`, and the metrics' and audit's label of a sign-in). */
export type SignInMethod = 'password' | 'magic_link' | 'clinical' | 'passkey' | 'sso';

/** The login body of API.md 1.1, shared by every way of signing in that yields a JWT. */
export interface LoginBody {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  refresh_token: string;
  user: PublicUser;
}

/** A login session to open for a user whose sign-in is complete (the sign-in module decided the assurance). */
export interface NewSession {
  method: SignInMethod;
  remember?: boolean;
  ip?: string | null;
  userAgent?: string | null;
  /** Surface-specific claims (the clinical `userId`). */
  claims?: Record<string, unknown>;
  audit?: OpenSessionInput['audit'];
}

/**
 * Opens a login session and issues its first access and refresh tokens. The session outlives both its
 * access tokens and its refresh chain, so that revoking it reaches every token it ever issued. Who may
 * get one is not decided here: the sign-in module (src/auth) asks for the second step first.
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

  async open(user: User, how: NewSession, assurance: Assurance, manager?: EntityManager): Promise<LoginBody> {
    const accessTtl = this.accessTtlSec(how.remember ?? false);
    const ttlMs = Math.max(accessTtl * 1000, this.config.ttlMs.refresh);
    const refresh = newSecret();
    const session = await this.sessions.open(
      {
        method: how.method,
        remember: how.remember,
        ip: how.ip,
        userAgent: how.userAgent,
        audit: how.audit && { ...how.audit, amr: assurance.amr },
        userId: user.id,
        ttlMs,
        amr: assurance.amr,
        aal: assurance.aal,
        // The session outlives its longest access token; the refresh chain ends REFRESH_TOKEN_TTL after login.
        refresh: { tokenHash: hashSecret(refresh), ttlMs: this.config.ttlMs.refresh },
      },
      manager,
    );
    return {
      ...this.accessBody(user, session.id, accessTtl, assurance, how.claims),
      refresh_token: refresh,
    };
  }

  /** A new access token for an existing session, in the login body's shape (without the refresh token). */
  accessBody(
    user: User,
    sessionId: string,
    ttlSec: number,
    assurance: Assurance,
    claims?: Record<string, unknown>,
  ): Omit<LoginBody, 'refresh_token'> {
    const { token } = this.accessTokens.issue(user, sessionId, ttlSec, assurance, claims);
    return { access_token: token, token_type: 'bearer', expires_in: ttlSec, user: toPublicUser(user) };
  }
}
