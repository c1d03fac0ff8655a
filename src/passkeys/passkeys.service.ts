import { Inject, Injectable, Optional } from '@nestjs/common';
import { Metrics, NO_METRICS } from '../metrics/metrics';
import {
  AuthenticationResponseJSON,
  AuthenticatorTransport,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { timingSafeEqual } from 'node:crypto';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/errors/domain-error';
import { deriveSecret, hashSecret } from '../common/secrets';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { MfaService, Proven } from '../mfa/mfa.service';
import { User } from '../users/entities/user.entity';
import { normalizeEmail, UsersService } from '../users/users.service';
import { authenticationResponse, echoedChallenge, registrationResponse, userHandleOf } from './responses';
import { CHALLENGE_TTL_SEC, TakenChallenge, WebAuthnChallenges } from './webauthn-challenges.service';
import { isUuid } from '../common/identifiers';
import { PasskeysRepository, StoredPasskey } from './passkeys.repository';

/** EdDSA, ES256, RS256: what authenticators in use sign with, in WebAuthn's order of preference. */
const ALGORITHMS = [-8, -7, -257];
const REFUSED = 'This passkey could not be verified';

export interface PasskeyView {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
  transports: string[];
  /** The authenticator model (all zeros when it does not say). */
  aaguid: string;
  /** Synced across devices by its provider (a multi-device credential) and backed up now. */
  backed_up: boolean;
  device_type: 'singleDevice' | 'multiDevice';
}

export interface NewPasskey {
  id: string;
  name: string;
  created_at: string;
  /** Only when this passkey is the first factor and turned MFA on: the ten recovery codes, shown this once. */
  recovery_codes?: string[];
}

export type LoginOptions = PublicKeyCredentialRequestOptionsJSON & { challenge_id: string };

/** A passkey that proved itself in a sign-in. */
export interface Asserted {
  user: User;
  factorId: string;
  /** The authenticator verified the user (PIN, biometric): the UV flag of the signed authenticator data. */
  userVerified: boolean;
}

type Registered = Extract<
  Awaited<ReturnType<typeof verifyRegistrationResponse>>,
  { verified: true }
>['registrationInfo'];

/** Why a ceremony failed: for the audit trail and the log, never for the caller, who learns only 401. */
class Refusal extends Error {}

const iso = (d: Date | string | null): string | null => (d ? new Date(d).toISOString() : null);

/**
 * Passkeys (API.md 8) over @simplewebauthn/server, which checks the ceremonies (origin, RP id hash, type,
 * challenge, flags, signature, attestation); the policy is here: challenges server-side and single use,
 * bound to their purpose; a passkey is an MFA factor; the signature counter must move forward.
 */
@Injectable()
export class PasskeysService {
  constructor(
    private readonly repo: PasskeysRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly challenges: WebAuthnChallenges,
    private readonly mfa: MfaService,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    @Optional() private readonly metrics: Metrics = NO_METRICS,
  ) {}

  async list(userId: string): Promise<PasskeyView[]> {
    const rows = await this.repo.listOf(userId);
    return rows.map((r) => ({ ...r, created_at: iso(r.created_at)!, last_used_at: iso(r.last_used_at) }));
  }

  /** Creation options for the caller, their passkeys excluded so that one authenticator is not added twice. */
  async registrationOptions(userId: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const user = await this.users.findByIdCached(userId);
    if (!user || !user.isActive) throw new DomainError('INVALID_TOKEN', 'The account behind this credential is gone');
    const existing = await this.repo.credentialsOf(userId);
    const displayName = [user.firstName, user.lastName].filter(Boolean).join(' ') || user.email;
    const options = await generateRegistrationOptions({
      rpName: this.config.mfa.issuer,
      rpID: this.config.webauthn.rpId,
      userName: user.email,
      userID: new Uint8Array(Buffer.from(userId, 'utf8')),
      userDisplayName: displayName,
      timeout: CHALLENGE_TTL_SEC * 1000,
      attestationType: 'none',
      excludeCredentials: existing.map((e) => ({
        id: e.credential_id,
        transports: e.transports as AuthenticatorTransport[],
      })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      supportedAlgorithmIDs: ALGORITHMS,
    });
    await this.challenges.create('register', options.challenge, { userId });
    return options;
  }

  /**
   * Verifies a registration against a live registration challenge of this user and stores the passkey
   * as a confirmed MFA factor. Any failure is 401 INVALID_CREDENTIALS and stores nothing.
   */
  async register(
    userId: string,
    raw: unknown,
    name: string | undefined,
    ip?: string | null,
    keepSessionId?: string,
  ): Promise<NewPasskey> {
    const response = registrationResponse(raw);
    let info: Registered;
    try {
      if (!response) throw new Refusal('malformed registration response');
      const challenge = echoedChallenge(response);
      const taken = challenge && (await this.challenges.takeRegistration(challenge, userId));
      if (!taken) throw new Refusal('no live registration challenge of this user');
      const verification = await this.library(() =>
        verifyRegistrationResponse({
          response,
          expectedChallenge: challengeMatcher(taken),
          expectedOrigin: this.config.webauthn.origins,
          expectedRPID: this.config.webauthn.rpId,
          requireUserVerification: false,
          supportedAlgorithmIDs: ALGORITHMS,
        }),
      );
      if (!verification.verified) throw new Refusal('registration not verified');
      info = verification.registrationInfo;
    } catch (e) {
      throw await this.refused(e, { userId, ip, stage: 'register' });
    }
    const { credential } = info;
    const transports = credential.transports?.length ? credential.transports : (response?.response.transports ?? []);
    const label = name?.trim() || 'Passkey';
    let added;
    try {
      added = await this.mfa.addConfirmedFactor(
        userId,
        'passkey',
        label,
        (m, factorId) =>
          this.repo.insert(m, {
            id: factorId,
            userId,
            credentialId: credential.id,
            publicKey: Buffer.from(credential.publicKey),
            counter: credential.counter,
            transports,
            aaguid: info.aaguid,
            deviceType: info.credentialDeviceType,
            backedUp: info.credentialBackedUp,
          }),
        ip,
        keepSessionId,
      );
    } catch (e) {
      if ((e as { code?: string }).code === '23505') {
        throw new DomainError('CONFLICT', 'This passkey is already registered');
      }
      throw e;
    }
    await this.audit.record('passkey_added', {
      userId,
      ip,
      details: { factor_id: added.factor.id, aaguid: info.aaguid, backed_up: info.credentialBackedUp },
    });
    return {
      id: added.factor.id,
      name: added.factor.name,
      created_at: added.factor.created_at,
      ...(added.recovery_codes ? { recovery_codes: added.recovery_codes } : {}),
    };
  }

  /** Removes one of the caller's passkeys by the rules of any factor (API.md 6: the last one, the policy). */
  async remove(userId: string, role: string, id: string, ip?: string | null): Promise<void> {
    const own = isUuid(id) && (await this.repo.isOwnedBy(id, userId));
    if (!own) throw new DomainError('NOT_FOUND', 'Passkey not found');
    await this.mfa.remove(userId, role, id, ip);
    await this.audit.record('passkey_removed', { userId, ip, details: { factor_id: id } });
  }

  /**
   * Request options for a sign-in. With an email, the passkeys of that account; an unknown email (or one
   * without passkeys) gets one credential id derived from the address under the server key, stable across
   * requests, so that the answer does not tell whether the account exists. Without one, an empty list: any
   * discoverable credential may answer.
   */
  async loginOptions(email?: string): Promise<LoginOptions> {
    let userId: string | null = null;
    let allow: { id: string }[] = [];
    if (email !== undefined) {
      const user = await this.users.findByLogin(email);
      userId = user?.id ?? null;
      const ids = await this.repo.credentialsOf(userId);
      allow = ids.length
        ? ids.map((r) => ({ id: r.credential_id }))
        : // A decoy with the shape of a real id (20 bytes, 27 characters, as most authenticators make), stable
          // per address: the answer for an address without passkeys looks like one for an address with one.
          [{ id: decoyCredentialId(this.config.jwt.secret, normalizeEmail(email)) }];
    }
    const options = await generateAuthenticationOptions({
      rpID: this.config.webauthn.rpId,
      allowCredentials: allow,
      timeout: CHALLENGE_TTL_SEC * 1000,
      userVerification: 'preferred',
    });
    const challengeId = await this.challenges.create('login', options.challenge, {
      userId,
      discoverable: email === undefined,
    });
    return { ...options, challenge_id: challengeId };
  }

  /**
   * A sign-in assertion: the challenge of `challengeId` used up whatever follows, then the credential, the
   * account the challenge was for, the signature and the counter. 401 INVALID_CREDENTIALS otherwise.
   */
  async authenticate(challengeId: string, raw: unknown, ip?: string | null): Promise<Asserted> {
    let asserted: { passkey: StoredPasskey; userVerified: boolean };
    try {
      const taken = await this.challenges.takeLogin(challengeId);
      if (!taken) throw new Refusal('no live sign-in challenge of that id');
      const response = authenticationResponse(raw);
      if (!response) throw new Refusal('malformed authentication response');
      const passkey = await this.repo.byCredentialId(response.id);
      if (!passkey) throw new Refusal('unknown credential');
      if (!taken.discoverable && taken.userId !== passkey.user_id) {
        throw new Refusal('credential of another account than the email named');
      }
      asserted = { passkey, userVerified: await this.verifyAssertion(passkey, response, taken, ip) };
    } catch (e) {
      this.metrics.signIn('passkey', 'failure');
      throw await this.refused(e, { ip, stage: 'login' });
    }
    const user = await this.users.findById(asserted.passkey.user_id);
    if (!user) throw new DomainError('INVALID_CREDENTIALS', REFUSED);
    if (!user.isActive) {
      this.metrics.signIn('passkey', 'disabled');
      await this.audit.record('login_failure', {
        userId: user.id,
        ip,
        details: { reason: 'disabled', method: 'passkey' },
      });
      throw new DomainError('ACCOUNT_DISABLED', 'This account is disabled');
    }
    await this.audit.record('passkey_sign_in', {
      userId: user.id,
      ip,
      details: { factor_id: asserted.passkey.id, user_verified: asserted.userVerified },
    });
    return { user, factorId: asserted.passkey.id, userVerified: asserted.userVerified };
  }

  /** Request options for one passkey factor as the second step of a pending sign-in; null if not the user's. */
  async secondStepOptions(
    pending: { id: string; userId: string },
    factorId: string,
  ): Promise<PublicKeyCredentialRequestOptionsJSON | null> {
    const passkey = isUuid(factorId) ? await this.repo.confirmedFactor(factorId, pending.userId) : undefined;
    if (!passkey) return null;
    const options = await generateAuthenticationOptions({
      rpID: this.config.webauthn.rpId,
      allowCredentials: [{ id: passkey.credential_id, transports: passkey.transports as AuthenticatorTransport[] }],
      timeout: CHALLENGE_TTL_SEC * 1000,
      userVerification: 'preferred',
    });
    await this.challenges.create('mfa', options.challenge, {
      userId: pending.userId,
      mfaChallengeId: pending.id,
      factorId,
    });
    return options;
  }

  /**
   * The passkey factor `factorId` as the second step of a pending sign-in: an assertion over a challenge
   * issued for this very mfa_token and factor. Null when it does not hold (the caller counts the failure).
   */
  async proveSecondStep(
    pending: { id: string; userId: string },
    factorId: string,
    raw: unknown,
    ip?: string | null,
  ): Promise<Proven | null> {
    try {
      const response = authenticationResponse(raw);
      if (!response) throw new Refusal('malformed authentication response');
      const challenge = echoedChallenge(response);
      const taken = challenge && (await this.challenges.takeSecondStep(challenge, pending.id, pending.userId));
      if (!taken) throw new Refusal('no live second-step challenge of this sign-in');
      if (taken.factorId !== factorId) throw new Refusal('challenge issued for another factor');
      const passkey = await this.repo.byCredentialId(response.id);
      if (!passkey || passkey.id !== factorId || passkey.user_id !== pending.userId) {
        throw new Refusal('credential is not the factor named');
      }
      await this.verifyAssertion(passkey, response, taken, ip);
      return { amr: 'hwk', factorId, type: 'passkey' };
    } catch (e) {
      await this.refused(e, { userId: pending.userId, ip, stage: 'second_step' });
      return null;
    }
  }

  /**
   * Checks an assertion, then moves the counter forward in one conditional UPDATE. The library is given a
   * stored counter of 0 so that it leaves the counter to us: a counter that does not increase (when
   * either is nonzero) is a cloned authenticator (WebAuthn 6.1.1), refused and recorded, and two racing
   * assertions with the same counter cannot both pass. Returns whether the user was verified.
   */
  private async verifyAssertion(
    passkey: StoredPasskey,
    response: AuthenticationResponseJSON,
    taken: TakenChallenge,
    ip?: string | null,
  ): Promise<boolean> {
    const handle = response.response.userHandle;
    if (handle && handle !== userHandleOf(passkey.user_id)) throw new Refusal('user handle of another account');
    const verification = await this.library(() =>
      verifyAuthenticationResponse({
        response,
        expectedChallenge: challengeMatcher(taken),
        expectedOrigin: this.config.webauthn.origins,
        expectedRPID: this.config.webauthn.rpId,
        credential: {
          id: passkey.credential_id,
          publicKey: new Uint8Array(passkey.public_key),
          counter: 0,
          transports: passkey.transports as AuthenticatorTransport[],
        },
        requireUserVerification: false,
      }),
    );
    if (!verification.verified) throw new Refusal('assertion not verified');
    const { newCounter, userVerified } = verification.authenticationInfo;
    if (!(await this.repo.advanceCounter(passkey.id, newCounter))) {
      await this.audit.record('passkey_clone_suspected', {
        userId: passkey.user_id,
        ip,
        details: { factor_id: passkey.id, stored_counter: Number(passkey.counter), presented_counter: newCounter },
      });
      throw new Refusal('signature counter did not increase');
    }
    return userVerified;
  }

  /** The library throws on every failed check (and on input it cannot parse): each is a refusal. */
  private async library<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      throw new Refusal((e as Error).message);
    }
  }

  /** Records a refused ceremony and gives the error for the caller; anything but a refusal goes on as it was. */
  private async refused(e: unknown, at: { userId?: string; ip?: string | null; stage: string }): Promise<unknown> {
    if (!(e instanceof Refusal)) return e;
    await this.audit.record('passkey_failed', {
      userId: at.userId ?? null,
      ip: at.ip,
      details: { stage: at.stage, reason: e.message.slice(0, 200) },
    });
    return new DomainError('INVALID_CREDENTIALS', REFUSED);
  }
}

/** The library asks whether the echoed challenge is ours; we keep only its hash. */
const challengeMatcher =
  (taken: TakenChallenge) =>
  (challenge: string): boolean => {
    const a = Buffer.from(hashSecret(challenge));
    const b = Buffer.from(taken.challengeHash);
    return a.length === b.length && timingSafeEqual(a, b);
  };

/** 20 bytes of an HMAC of the address, base64url: the length and alphabet of a real credential id. */
function decoyCredentialId(secret: Buffer, email: string): string {
  return Buffer.from(deriveSecret(secret, 'passkey decoy', email), 'base64url')
    .subarray(0, 20)
    .toString('base64url');
}
