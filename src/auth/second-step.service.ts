import { Injectable, Optional } from '@nestjs/common';
import { Metrics, NO_METRICS } from '../metrics/metrics';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/errors/domain-error';
import { MfaChallenges, OpenChallenge } from '../mfa/challenges.service';
import { MfaService, Proven } from '../mfa/mfa.service';
import { PasskeysService } from '../passkeys/passkeys.service';
import { User } from '../users/entities/user.entity';
import { UsersService } from '../users/users.service';
import { ClinicalLoginBody, clinicalLoginBody } from './clinical-auth.service';
import type { LoginBody } from '../sessions/session-issuer.service';
import { type ClientInfo } from '../access/client-info';
import { PendingSignIns, SignInFlow } from './pending-sign-ins.repository';
import { SignInService } from './sign-in.service';

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

/**
 * The second step of a sign-in (API.md 6): an `mfa_token` and a second factor in, the login body out. It
 * goes one way: it asks mfa/ (codes, recovery codes, the lock-out) or passkeys/ (an assertion) for the
 * proof, records the outcome, and signs in with the flow that auth/ kept when the first step stopped.
 */
@Injectable()
export class SecondStepService {
  constructor(
    private readonly challenges: MfaChallenges,
    private readonly pending: PendingSignIns,
    private readonly mfa: MfaService,
    private readonly users: UsersService,
    private readonly signIns: SignInService,
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
    if (factorId !== challenge.first.factorId) {
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
    const proven = await (
      step.webauthn ? this.provePasskey(challenge, step, client) : this.proveCode(challenge, step, client)
    ).catch(this.countLocked);
    if (!proven) {
      this.metrics.mfaVerification('wrong_code');
      throw new DomainError('INVALID_MFA_CODE', WRONG_CODE);
    }
    this.metrics.mfaVerification('success');
    await this.challenges.finish(challenge.id);
    const [user, flow] = await Promise.all([this.users.findById(challenge.userId), this.pending.of(challenge.id)]);
    if (!user || !user.isActive) throw new DomainError('INVALID_TOKEN', 'This account can no longer sign in');
    const body = await this.signIn(user, flow, challenge.first.amr, proven, client);
    await this.audit.record('mfa_verified', {
      userId: user.id,
      ip: client.ip,
      details: { factor: proven.type, factor_id: proven.factorId },
    });
    return flow.surface === 'clinical'
      ? { surface: 'clinical', body: clinicalLoginBody(user, body), setCookie: false }
      : { surface: 'portal', body, setCookie: flow.setCookie };
  }

  /** A second step refused because the account had too many wrong codes (RATE_LIMIT_MFA). */
  private readonly countLocked = (e: unknown): never => {
    if (e instanceof DomainError && e.code === 'RATE_LIMIT_EXCEEDED') this.metrics.mfaVerification('locked');
    throw e;
  };

  private proveCode(challenge: OpenChallenge, step: SecondStep, client: ClientInfo): Promise<Proven | null> {
    const proof = { code: step.code, recoveryCode: step.recovery_code, factorId: step.factor_id };
    return this.mfa.prove(challenge.userId, proof, client.ip);
  }

  /** A passkey other than the first step's, counted under mfa/'s lock-out before passkeys/ checks it. */
  private async provePasskey(challenge: OpenChallenge, step: SecondStep, client: ClientInfo): Promise<Proven | null> {
    await this.mfa.takeGuess(challenge.userId);
    const other = step.factor_id && step.factor_id !== challenge.first.factorId ? step.factor_id : null;
    const proven = other ? await this.passkeys.proveSecondStep(challenge, other, step.webauthn, client.ip) : null;
    return this.mfa.settleGuess(challenge.userId, proven, client.ip, 'passkey');
  }

  private signIn(user: User, flow: SignInFlow, amr: string[], proven: Proven, client: ClientInfo): Promise<LoginBody> {
    const clinical = flow.surface === 'clinical';
    return this.signIns.signIn(user, {
      method: flow.method,
      remember: flow.remember,
      ...client,
      claims: clinical ? { userId: user.id } : undefined,
      audit: { ...(clinical ? { surface: 'clinical' } : {}), remember: flow.remember, second_factor: proven.type },
      secondStep: { amr, proven },
    });
  }
}
