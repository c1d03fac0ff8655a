import { Injectable, Optional } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError } from '../common/errors/domain-error';
import { Metrics, NO_METRICS } from '../metrics/metrics';
import type { SignInMethodLabel } from '../metrics/metrics';
import { MfaChallenges } from '../mfa/challenges.service';
import { MfaService, Proven } from '../mfa/mfa.service';
import type { Assurance } from '../sessions/access-tokens.service';
import { LoginBody, NewSession, SessionIssuer, SignInMethod } from '../sessions/session-issuer.service';
import { User } from '../users/entities/user.entity';
import { PendingSignIns } from './pending-sign-ins.repository';

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

export interface SignIn extends NewSession {
  method: SignInMethod;
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

/**
 * The one way in: every sign-in that yields a JWT comes through here, so this is where a user with MFA on
 * is stopped after the first factor: no route can open a session for them without the second step.
 */
@Injectable()
export class SignInService {
  constructor(
    private readonly issuer: SessionIssuer,
    private readonly mfa: MfaService,
    private readonly challenges: MfaChallenges,
    private readonly pending: PendingSignIns,
    private readonly dataSource: DataSource,
    @Optional() private readonly metrics: Metrics = NO_METRICS,
  ) {}

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
    const body = await this.issuer.open(user, how, assurance, manager);
    this.metrics.signIn(METRIC_METHOD[how.method], 'success');
    return body;
  }

  private async challenge(
    user: User,
    how: SignIn,
    amr: string[],
    factors: { id: string; type: string; name: string }[],
    manager?: EntityManager,
  ): Promise<DomainError> {
    // mfa/ keeps what the first factor proved; where the sign-in began is ours, written in the same transaction.
    const open = async (m: EntityManager) => {
      const first = { amr, ...(how.firstFactorId ? { factorId: how.firstFactorId } : {}) };
      const challenge = await this.challenges.create(user.id, first, m);
      await this.pending.save(
        challenge.id,
        {
          surface: how.surface ?? 'portal',
          method: how.method,
          remember: how.remember ?? false,
          setCookie: how.setCookie ?? false,
        },
        m,
      );
      return challenge;
    };
    const { token, expiresIn } = manager ? await open(manager) : await this.dataSource.transaction(open);
    return new DomainError('MFA_REQUIRED', 'Two-factor authentication is required: finish with a second factor', [], {
      mfa_token: token,
      factors,
      expires_in: expiresIn,
    });
  }
}
