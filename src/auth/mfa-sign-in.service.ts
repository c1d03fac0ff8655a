import { Injectable, Optional } from '@nestjs/common';
import { Metrics, NO_METRICS } from '../metrics/metrics';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/errors/domain-error';
import { MfaChallenges, SignInFlow } from '../mfa/challenges.service';
import { MfaService, Proven } from '../mfa/mfa.service';
import { PasskeysService } from '../passkeys/passkeys.service';
import { User } from '../users/entities/user.entity';
import { UsersService } from '../users/users.service';
import { ClinicalLoginBody, clinicalLoginBody } from './clinical-auth.service';
import type { ClientInfo } from './portal-auth.service';
import { LoginBody, SessionIssuer, SignInMethod } from './session-issuer.service';

export interface SecondStep {
  mfa_token?: unknown;
  code?: string;
  recovery_code?: string;
  factor_id?: string;
  /** A passkey's assertion (with `factor_id`), over the options that the challenge returned. */
  webauthn?: Record<string, unknown>;
}

export type ChallengeOutcome = { kind: 'sent' } | { kind: 'webauthn'; options: PublicKeyCredentialRequestOptionsJSON };

export type SecondStepResult =
  | { surface: 'portal'; body: LoginBody; setCookie: boolean }
  | { surface: 'clinical'; body: ClinicalLoginBody; setCookie: false };

const WRONG_CODE = 'The code is not right, or has expired';

/** The second step of a sign-in (API.md 6): an `mfa_token` and a second factor in, the login body out. */
@Injectable()
export class MfaSignInService {
  constructor(
    private readonly challenges: MfaChallenges,
    private readonly mfa: MfaService,
    private readonly users: UsersService,
    private readonly issuer: SessionIssuer,
    private readonly audit: AuditService,
    private readonly passkeys: PasskeysService,
    @Optional() private readonly metrics: Metrics = NO_METRICS,
  ) {}

  /**
   * Sends the code of an email or SMS factor of the challenge's user, or gives WebAuthn request options
   * for a passkey factor (never the passkey that was this sign-in's first step).
   */
  async challenge(mfaToken: unknown, factorId: string): Promise<ChallengeOutcome> {
    const challenge = await this.challenges.open(mfaToken);
    if (factorId !== challenge.flow.firstFactorId) {
      const options = await this.passkeys.secondStepOptions(challenge, factorId);
      if (options) return { kind: 'webauthn', options };
    }
    const outcome = await this.mfa.sendCode(challenge.userId, factorId);
    if (outcome === 'not_a_code_factor') {
      throw new DomainError('BAD_REQUEST', 'This factor has no code to send: use your authenticator app or passkey');
    }
    return { kind: 'sent' };
  }

  async verify(step: SecondStep, client: ClientInfo): Promise<SecondStepResult> {
    const challenge = await this.challenges.open(step.mfa_token);
    await this.challenges.countGuess(challenge.id);
    const proven = step.webauthn
      ? await this.mfa
          .proveWith(
            challenge.userId,
            'passkey',
            () =>
              step.factor_id && step.factor_id !== challenge.flow.firstFactorId
                ? this.passkeys.proveSecondStep(challenge, step.factor_id, step.webauthn, client.ip)
                : Promise.resolve(null),
            client.ip,
          )
          .catch(this.countLocked)
      : await this.mfa
          .prove(
            challenge.userId,
            { code: step.code, recoveryCode: step.recovery_code, factorId: step.factor_id },
            client.ip,
          )
          .catch(this.countLocked);
    if (!proven) {
      this.metrics.mfaVerification('wrong_code');
      throw new DomainError('INVALID_MFA_CODE', WRONG_CODE);
    }
    this.metrics.mfaVerification('success');
    await this.challenges.finish(challenge.id);
    const user = await this.users.findById(challenge.userId);
    if (!user || !user.isActive) throw new DomainError('INVALID_TOKEN', 'This account can no longer sign in');
    const body = await this.signIn(user, challenge.flow, proven, client);
    await this.audit.record('mfa_verified', {
      userId: user.id,
      ip: client.ip,
      details: { factor: proven.type, factor_id: proven.factorId },
    });
    return challenge.flow.surface === 'clinical'
      ? { surface: 'clinical', body: clinicalLoginBody(user, body), setCookie: false }
      : { surface: 'portal', body, setCookie: challenge.flow.setCookie };
  }

  /** A second step refused because the account had too many wrong codes (RATE_LIMIT_MFA). */
  private readonly countLocked = (e: unknown): never => {
    if (e instanceof DomainError && e.code === 'RATE_LIMIT_EXCEEDED') this.metrics.mfaVerification('locked');
    throw e;
  };

  private signIn(user: User, flow: SignInFlow, proven: Proven, client: ClientInfo): Promise<LoginBody> {
    const clinical = flow.surface === 'clinical';
    return this.issuer.signIn(user, {
      method: flow.method as SignInMethod,
      remember: flow.remember,
      ...client,
      claims: clinical ? { userId: user.id } : undefined,
      audit: { ...(clinical ? { surface: 'clinical' } : {}), remember: flow.remember, second_factor: proven.type },
      secondStep: { amr: flow.amr, proven },
    });
  }
}
