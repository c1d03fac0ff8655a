import { Inject, Injectable, Optional } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DomainError } from '../common/errors/domain-error';
import { Metrics, NO_METRICS } from '../metrics/metrics';
import type { SignInMethodLabel } from '../metrics/metrics';
import { hashSecret, newSecret } from '../common/secrets';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { MfaChallenges } from '../mfa/challenges.service';
import { MfaService, Proven } from '../mfa/mfa.service';
import { User } from '../users/entities/user.entity';
import { PublicUser, toPublicUser } from '../users/users.service';
import { AccessTokensService, Assurance } from './access-tokens.service';
import { LoginSessionsService, OpenSessionInput } from './login-sessions.service';

export type SignInMethod = 'password' | 'magic_link' | 'clinical' | 'passkey' | 'sso';

/**
 * RFC 8176 method of each first factor (a magic link proves control of the mailbox: `email`; a passkey is
 * a hardware-secured key: `hwk`; an institution's identity provider vouched for the user: `fed`, whatever
 * it asked of them, since it does not tell us reliably).
 */
const FIRST_FACTOR_AMR: Record<SignInMethod, string> = {
  password: 'pwd',
  clinical: 'pwd',
  magic_link: 'email',
  passkey: 'hwk',
  sso: 'fed',
};

/** The method label of the sign-in metrics: the clinical surface's sign-in is a password sign-in. */
const METRIC_METHOD: Record<SignInMethod, SignInMethodLabel> = {
  password: 'password',
  clinical: 'password',
  magic_link: 'magic_link',
  passkey: 'passkey',
  sso: 'sso',
};

export interface SignIn {
  method: SignInMethod;
  remember?: boolean;
  ip?: string | null;
  userAgent?: string | null;
  /** Surface-specific claims (the clinical `userId`). */
  claims?: Record<string, unknown>;
  audit?: OpenSessionInput['audit'];
  /** The surface whose login body a second step will answer with, and whether it sets cookies. */
  surface?: 'portal' | 'clinical';
  setCookie?: boolean;
  /** Set only by the second step of a sign-in: the first factor's methods and the second factor proven. */
  secondStep?: { amr: string[]; proven: Proven };
  /**
   * One credential that is two factors: a passkey whose authenticator verified the user (the key held, and
   * the PIN or biometric that unlocked it). Signs in at aal2 with `mfa` in amr, with no second step.
   */
  bothFactors?: boolean;
  /**
   * The MFA factor that was this first step (a passkey without user verification): the second step must be
   * another factor, and is asked for even when no other factor is left (a recovery code still finishes it).
   */
  firstFactorId?: string;
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
 *
 * Every sign-in that yields a JWT comes through here, so this is where a user with MFA on is stopped
 * after the first factor: no route can open a session for them without the second step.
 */
@Injectable()
export class SessionIssuer {
  constructor(
    private readonly accessTokens: AccessTokensService,
    private readonly sessions: LoginSessionsService,
    private readonly mfa: MfaService,
    private readonly challenges: MfaChallenges,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() private readonly metrics: Metrics = NO_METRICS,
  ) {}

  accessTtlSec(remember: boolean): number {
    return remember ? this.config.jwt.rememberExpiresInSec : this.config.jwt.expiresInSec;
  }

  /** Signs in, or throws MFA_REQUIRED (with the `mfa_token` of the second step) for a user with MFA on. */
  async signIn(user: User, how: SignIn, manager?: EntityManager): Promise<LoginBody> {
    const result = await this.signInOrChallenge(user, how, manager);
    if (result instanceof DomainError) throw result;
    return result;
  }

  /**
   * As signIn, but MFA_REQUIRED is returned rather than thrown, for a caller whose transaction must commit
   * the first factor's use (a magic link is spent even when a second step follows).
   */
  async signInOrChallenge(user: User, how: SignIn, manager?: EntityManager): Promise<LoginBody | DomainError> {
    const first = how.secondStep?.amr ?? [FIRST_FACTOR_AMR[how.method]];
    if (user.mfaEnabled && !how.secondStep && !how.bothFactors) {
      const factors = (await this.mfa.confirmedFactors(user.id, manager)).filter((f) => f.id !== how.firstFactorId);
      if (factors.length || how.firstFactorId) {
        this.metrics.signIn(METRIC_METHOD[how.method], 'mfa_required');
        return this.challenge(user, how, first, factors, manager);
      }
    }
    const authTime = Math.floor(Date.now() / 1000);
    const assurance: Assurance = how.secondStep
      ? { amr: [...new Set([...first, how.secondStep.proven.amr, 'mfa'])], aal: 2, authTime }
      : how.bothFactors
        ? { amr: [...first, 'mfa'], aal: 2, authTime }
        : { amr: first, aal: 1, authTime };
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
    this.metrics.signIn(METRIC_METHOD[how.method], 'success');
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

  private async challenge(
    user: User,
    how: SignIn,
    amr: string[],
    factors: { id: string; type: string; name: string }[],
    manager?: EntityManager,
  ): Promise<DomainError> {
    const { token, expiresIn } = await this.challenges.create(
      user.id,
      {
        surface: how.surface ?? 'portal',
        method: how.method,
        amr,
        remember: how.remember ?? false,
        setCookie: how.setCookie ?? false,
        ...(how.firstFactorId ? { firstFactorId: how.firstFactorId } : {}),
      },
      manager,
    );
    return new DomainError('MFA_REQUIRED', 'Two-factor authentication is required: finish with a second factor', [], {
      mfa_token: token,
      factors,
      expires_in: expiresIn,
    });
  }
}
