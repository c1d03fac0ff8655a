import { Inject, Injectable, Logger } from '@nestjs/common';
import { toString as qrCode } from 'qrcode';
import { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/errors/domain-error';
import { SecretBox } from '../common/secret-box';
import { CounterStorage } from '../common/throttle/counter-storage';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { MailService } from '../mail/mail.service';
import { isE164 } from '../sms/e164';
import { SmsService } from '../sms/sms.service';
import { UserCache } from '../users/user-cache';
import { UsersService } from '../users/users.service';
import {
  CodeHasher,
  isSixDigits,
  newRecoveryCode,
  newSixDigitCode,
  newTotpSeed,
  normalizeRecoveryCode,
  RECOVERY_CODE_COUNT,
  totpOf,
  totpStep,
} from './codes';
import { FactorType } from './entities';
import { FactorRow, MfaRepository } from './mfa.repository';
import { AccessRevoker } from '../sessions/access-revoker.service';

/** Email and SMS codes live 10 minutes (API.md 6). */
const CODE_TTL_SEC = 600;
/** Enough for an authenticator on a phone and one on a laptop, a few passkeys, an email and a phone. */
const MAX_FACTORS = 10;
/** Factors started and not confirmed, per account (API.md 12): a pending factor costs a send each time. */
const MAX_PENDING_FACTORS = 3;
const INVALID_CODE = 'The code is not right, or has expired';

export interface FactorView {
  id: string;
  type: FactorType;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

export interface MfaStatus {
  enabled: boolean;
  factors: FactorView[];
  recovery_codes_left: number;
}

export interface TotpEnrolment {
  factor_id: string;
  secret: string;
  otpauth_uri: string;
  qr_code: string;
}

/** What a person presents at the second step (or to confirm a factor). */
export interface Proof {
  code?: string;
  recoveryCode?: string;
  factorId?: string;
}

/** A proof that held: the factor's RFC 8176 method and what to record. */
export interface Proven {
  amr: 'otp' | 'sms' | 'hwk';
  factorId: string | null;
  type: FactorType | 'recovery_code';
}

const view = (f: Pick<FactorRow, 'id' | 'type' | 'name' | 'created_at' | 'last_used_at'>): FactorView => ({
  id: f.id,
  type: f.type,
  name: f.name,
  created_at: new Date(f.created_at).toISOString(),
  last_used_at: f.last_used_at ? new Date(f.last_used_at).toISOString() : null,
});

/**
 * Second factors: TOTP (otpauth; the seed sealed with AES-256-GCM), email and SMS codes (HMAC at rest, one
 * live code per factor, one use), recovery codes (HMAC, one use each). Every use is one conditional UPDATE,
 * so racing requests with the same code get one success. Wrong codes count per account (RATE_LIMIT_MFA,
 * through the rate-limit store, so instances sharing Redis share the count).
 */
@Injectable()
export class MfaService {
  private readonly logger = new Logger('Mfa');
  private readonly seeds: SecretBox;
  private readonly codes: CodeHasher;

  constructor(
    private readonly repo: MfaRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly mail: MailService,
    private readonly sms: SmsService,
    private readonly audit: AuditService,
    private readonly users: UserCache,
    private readonly accounts: UsersService,
    private readonly counters: CounterStorage,
    private readonly revoker: AccessRevoker,
  ) {
    this.seeds = new SecretBox(config.jwt.secret, 'totp seed');
    this.codes = new CodeHasher(config.jwt.secret);
  }

  /** From the one-second user cache, which every MFA write here invalidates. */
  async isEnabled(userId: string): Promise<boolean> {
    return (await this.accounts.findByIdCached(userId))?.mfaEnabled ?? false;
  }

  /** The confirmed factors, as MFA_REQUIRED lists them. */
  async confirmedFactors(
    userId: string,
    manager?: EntityManager,
  ): Promise<{ id: string; type: FactorType; name: string }[]> {
    return this.repo.confirmedFactors(userId, manager);
  }

  async status(userId: string): Promise<MfaStatus> {
    const factors = await this.repo.confirmedViews(userId);
    const left = await this.repo.recoveryCodesLeft(userId);
    return { enabled: factors.length > 0, factors: factors.map(view), recovery_codes_left: left };
  }

  /** A pending TOTP factor: the secret, its otpauth:// URI and a QR code of it, shown this once. */
  async enrolTotp(user: { id: string; email: string }, name?: string): Promise<TotpEnrolment> {
    await this.roomForAnother(user.id, 'totp');
    const seed = newTotpSeed();
    const factorName = name?.trim() || 'Authenticator app';
    // A new enrolment replaces one that was never confirmed (a QR code scanned by nobody).
    const id = await this.repo.transaction((m) =>
      this.repo.replacePendingTotp(m, user.id, factorName, (factorId) => this.seeds.seal(seed, factorId)),
    );
    const totp = totpOf(seed, user.email, this.config.mfa.issuer);
    const uri = totp.toString();
    const svg = await qrCode(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return {
      factor_id: id,
      secret: totp.secret.base32,
      otpauth_uri: uri,
      qr_code: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
    };
  }

  /** The email factor of the user's address (one per user), pending until its code is confirmed. */
  async enrolEmail(user: { id: string; email: string }): Promise<{ factor_id: string }> {
    return this.enrolCodeFactor(user.id, 'email', 'Email', null);
  }

  /** An SMS factor for an E.164 number (one per number), pending until its code is confirmed. */
  async enrolSms(user: { id: string }, phone: string): Promise<{ factor_id: string }> {
    if (!isE164(phone)) {
      throw new DomainError('VALIDATION_ERROR', 'Invalid input data', [
        { name: 'phone', message: 'phone must be an E.164 number such as +447700900123' },
      ]);
    }
    return this.enrolCodeFactor(user.id, 'sms', `Phone ending ${phone.slice(-4)}`, phone);
  }

  /** The user's factor of that type (and phone) or a new pending one, and a code sent to it. */
  private async enrolCodeFactor(
    userId: string,
    type: 'email' | 'sms',
    name: string,
    phone: string | null,
  ): Promise<{ factor_id: string }> {
    const existing = await this.repo.codeFactorOf(userId, type, phone);
    if (!existing) await this.roomForAnother(userId, null);
    const id = existing ?? (await this.repo.insertPendingCodeFactor(userId, type, name, phone));
    await this.sendCode(userId, id);
    return { factor_id: id };
  }

  /**
   * Sends a new code for an email or SMS factor of the user; the older code stops working. Answers the
   * same for a factor that is not the user's, so a challenge cannot probe factor ids.
   */
  async sendCode(userId: string, factorId: string): Promise<'sent' | 'not_a_code_factor'> {
    const target = await this.repo.codeTarget(factorId, userId);
    if (!target) return 'not_a_code_factor';
    // SMS pumping and mail bombing (API.md 12): sends are bounded per account and per destination, counted
    // before the send, so that parallel requests cannot get past the bound.
    const tooMany = 'Too many codes were sent just now; try again later';
    await this.counters.take(`code-sends:to:${target.phone ?? target.email}`, this.config.mfa.sendsTo, tooMany);
    await this.counters.take(`code-sends:user:${userId}`, this.config.mfa.sends, tooMany);
    const code = newSixDigitCode();
    const to = await this.repo.storeCode(factorId, userId, this.codes.hash(factorId, code), CODE_TTL_SEC);
    if (!to) return 'not_a_code_factor';
    const minutes = CODE_TTL_SEC / 60;
    try {
      await this.deliver(to, code, minutes);
    } catch (e) {
      // The code is stored but never reached the person: say so (503), without the code or the gateway's words.
      this.logger.error(`second-factor code could not be sent (${to.type}): ${(e as Error).message}`);
      throw new DomainError('SERVICE_UNAVAILABLE', 'The code could not be sent just now; try again in a moment');
    }
    return 'sent';
  }

  private async deliver(
    to: { type: FactorType; phone: string | null; email: string },
    code: string,
    minutes: number,
  ): Promise<void> {
    if (to.type === 'sms' && to.phone) {
      await this.sms.send({
        to: to.phone,
        body: `${code} is your ${this.config.mfa.issuer} sign-in code (${minutes} min).`,
      });
      return;
    }
    if (to.type === 'email') {
      await this.mail.send({
        to: to.email,
        subject: 'Your sign-in code',
        text:
          `Your sign-in code is ${code}.\n\nIt works once and expires in ${minutes} minutes. ` +
          `If you did not try to sign in, change your password.\n`,
      });
    }
  }

  /**
   * Confirms a pending factor with its first code (or re-confirms one). The first confirmed factor turns
   * MFA on and brings the ten recovery codes, shown this once.
   */
  async confirm(
    userId: string,
    factorId: string,
    code: unknown,
    ip?: string | null,
    keepSessionId?: string,
  ): Promise<{ factor: FactorView; recovery_codes?: string[] }> {
    await this.reserveGuess(userId);
    if (!isSixDigits(code)) return this.wrongCode(userId, ip);
    const confirmed = await this.repo.transaction(async (m) => {
      // One confirmation per user at a time: two factors confirmed together must not both issue codes.
      const wasEnabled = (await this.repo.lockUser(m, userId))?.mfaEnabled;
      const factor = await this.repo.factorToConfirm(m, factorId, userId);
      if (!factor) throw new DomainError('NOT_FOUND', 'Factor not found');
      if (!(await this.useCode(factor, code, m))) return this.wrongCode(userId, ip);
      await this.repo.markConfirmed(m, factor.id);
      await this.repo.turnOn(m, userId);
      const recovery = wasEnabled ? undefined : await this.replaceRecoveryCodes(userId, m);
      this.users.invalidate(userId);
      if (!factor.confirmed_at) {
        await this.audit.record('mfa_enrolled', { userId, ip, details: { factor_id: factor.id, type: factor.type } });
      }
      return { factor: view(factor), ...(recovery ? { recovery_codes: recovery } : {}) };
    });
    await this.releaseGuess(userId);
    if (confirmed.recovery_codes) await this.revoker.mfaTurnedOn(userId, keepSessionId);
    return confirmed;
  }

  /**
   * Adds a factor that is confirmed by the ceremony that created it (a passkey: the authenticator's
   * attestation is the proof). `attach` writes the factor's own data in the same transaction. Like a
   * confirmation, the first factor turns MFA on and brings the ten recovery codes, shown this once.
   */
  async addConfirmedFactor(
    userId: string,
    type: 'passkey',
    name: string,
    attach: (m: EntityManager, factorId: string) => Promise<void>,
    ip?: string | null,
    keepSessionId?: string,
  ): Promise<{ factor: FactorView; recovery_codes?: string[] }> {
    await this.roomForAnother(userId, 'confirmed');
    const result = await this.repo.transaction(async (m) => {
      const wasEnabled = (await this.repo.lockUser(m, userId))?.mfaEnabled;
      const factor = await this.repo.insertConfirmedFactor(m, userId, type, name);
      await attach(m, factor.id);
      await this.repo.turnOn(m, userId);
      const recovery = wasEnabled ? undefined : await this.replaceRecoveryCodes(userId, m);
      return { factor: view(factor), ...(recovery ? { recovery_codes: recovery } : {}) };
    });
    this.users.invalidate(userId);
    await this.audit.record('mfa_enrolled', { userId, ip, details: { factor_id: result.factor.id, type } });
    if (result.recovery_codes) await this.revoker.mfaTurnedOn(userId, keepSessionId);
    return result;
  }

  /**
   * A guess at a factor that is not a code (a passkey's assertion, which passkeys/ checks), counted against
   * the account before it is checked, under the same lock-out as a wrong code (API.md 12). The caller
   * settles it with the outcome: a failure stays counted and is audited, a success gives the guess back.
   */
  async takeGuess(userId: string): Promise<void> {
    await this.reserveGuess(userId);
  }

  async settleGuess(userId: string, proven: Proven | null, ip: string | null | undefined, kind: string) {
    if (!proven) return this.failed(userId, ip, kind);
    await this.releaseGuess(userId);
    return proven;
  }

  /** Removes a factor; the last confirmed one turns MFA off and takes the recovery codes with it. */
  async remove(userId: string, role: string, factorId: string, ip?: string | null): Promise<void> {
    await this.repo.transaction(async (m) => {
      await this.repo.lockUser(m, userId);
      const factor = await this.repo.factorToRemove(m, factorId, userId);
      if (!factor) throw new DomainError('NOT_FOUND', 'Factor not found');
      const others = await this.repo.otherConfirmedFactors(m, userId, factorId);
      if (factor.confirmed_at && others === 0 && this.config.mfa.requiredRoles.includes(role)) {
        throw new DomainError(
          'MFA_REQUIRED_BY_POLICY',
          'Your role must keep a second factor: add another one before removing this one',
        );
      }
      await this.repo.deleteFactor(m, factorId);
      if (others === 0) await this.repo.turnOff(m, userId);
      if (factor.confirmed_at) {
        await this.audit.record('mfa_removed', {
          userId,
          ip,
          details: { factor_id: factorId, type: factor.type, mfa_enabled: others > 0 },
        });
      }
    });
    this.users.invalidate(userId);
  }

  async regenerateRecoveryCodes(userId: string, ip?: string | null): Promise<string[]> {
    const codes = await this.repo.transaction(async (m) => {
      const user = await this.repo.lockUser(m, userId);
      if (!user?.mfaEnabled) {
        throw new DomainError('CONFLICT', 'Two-factor authentication is off: confirm a factor first');
      }
      return this.replaceRecoveryCodes(userId, m);
    });
    await this.audit.record('recovery_codes_regenerated', { userId, ip });
    return codes;
  }

  /** An admin's reset: every factor and recovery code of the user gone (the caller revokes the sessions). */
  async reset(userId: string, actorId: string, ip?: string | null): Promise<boolean> {
    const found = await this.repo.transaction((m) => this.repo.resetAll(m, userId));
    if (found) {
      this.users.invalidate(userId);
      await this.audit.record('mfa_reset', { userId, actorId, ip });
    }
    return found;
  }

  /**
   * Checks a second factor: a 6-digit code against the user's confirmed TOTP factors and the live code of
   * their email and SMS factors (or of the one factor named), or a recovery code. Null when it does not
   * hold, counted against the account. The same queries run whether or not the named factor exists.
   */
  async prove(userId: string, proof: Proof, ip?: string | null): Promise<Proven | null> {
    await this.reserveGuess(userId);
    if (proof.recoveryCode !== undefined) {
      const normalized = normalizeRecoveryCode(proof.recoveryCode);
      const spent = await this.repo.spendRecoveryCode(userId, this.codes.hash(userId, normalized));
      if (!spent) return this.failed(userId, ip, 'recovery_code');
      await this.releaseGuess(userId);
      await this.audit.record('recovery_code_used', { userId, ip });
      return { amr: 'otp', factorId: null, type: 'recovery_code' };
    }
    const code = proof.code;
    const factors = await this.repo.provableFactors(userId, proof.factorId ?? null);
    if (isSixDigits(code)) {
      for (const factor of factors) {
        const used = await this.useCode(factor, code);
        if (used) await this.releaseGuess(userId);
        if (used === 'replayed') return null;
        if (used) return { amr: factor.type === 'sms' ? 'sms' : 'otp', factorId: factor.id, type: factor.type };
      }
    }
    return this.failed(userId, ip, proof.factorId ? 'factor' : 'code');
  }

  /**
   * Uses a code of one factor: for TOTP, moves the factor's last accepted step forward (only a later
   * step can match); for email and SMS, clears the live code. `replayed` is a right TOTP code whose step
   * was already used: refused, but not counted as a guess.
   */
  private async useCode(factor: FactorRow, code: string, manager?: EntityManager): Promise<boolean | 'replayed'> {
    if (factor.type === 'totp') {
      if (!factor.secret_enc) return false;
      const step = totpStep(this.seeds.open(factor.secret_enc, factor.id), code);
      if (step === null) return false;
      return (await this.repo.advanceTotpStep(factor.id, step, manager)) ? true : 'replayed';
    }
    if (!factor.code_live || !this.codes.matches(factor.id, code, factor.code_hash)) return false;
    return this.repo.spendCode(factor.id, factor.code_hash, manager);
  }

  private async replaceRecoveryCodes(userId: string, m: EntityManager): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const hashes = codes.map((c) => this.codes.hash(userId, normalizeRecoveryCode(c)));
    await this.repo.replaceRecoveryCodes(m, userId, hashes);
    return codes;
  }

  /**
   * Room for one more factor: at most MAX_FACTORS confirmed, and (for a factor that starts pending) at most
   * MAX_PENDING_FACTORS pending, 429 beyond (API.md 12). `pending`: 'totp' for a TOTP enrolment (which
   * replaces an unconfirmed TOTP factor, so that one does not count), 'confirmed' for a factor that never
   * waits (a passkey), null for an email or SMS factor.
   */
  private async roomForAnother(userId: string, pending: 'totp' | 'confirmed' | null): Promise<void> {
    const { confirmed: n, pending: p } = await this.repo.factorCounts(userId, pending === 'totp' ? 'totp' : null);
    if (n >= MAX_FACTORS) throw new DomainError('CONFLICT', `At most ${MAX_FACTORS} second factors per account`);
    if (pending !== 'confirmed' && p >= MAX_PENDING_FACTORS) {
      throw new DomainError(
        'RATE_LIMIT_EXCEEDED',
        `At most ${MAX_PENDING_FACTORS} factors may wait for confirmation: confirm or remove one first`,
      );
    }
  }

  private failureKey(userId: string): string {
    return `mfa-failures:${userId}`;
  }

  /**
   * Counts a guess against the account before it is checked (API.md 12): one atomic increment (in memory, or
   * INCR in Redis), and the guess is only compared when the count is within RATE_LIMIT_MFA, so that parallel
   * guesses cannot get past the limit. 429 with Retry-After beyond it. A guess that turns out right is given
   * back (`releaseGuess`), so the limit counts wrong codes.
   */
  private reserveGuess(userId: string): Promise<void> {
    return this.counters.take(
      this.failureKey(userId),
      this.config.mfa.failures,
      'Too many wrong codes for this account; try again later',
    );
  }

  private async releaseGuess(userId: string): Promise<void> {
    if (this.config.mfa.failures) await this.counters.decrement(this.failureKey(userId));
  }

  private async failed(userId: string, ip: string | null | undefined, kind: string): Promise<null> {
    await this.audit.record('mfa_failed', { userId, ip, details: { kind } });
    return null;
  }

  private async wrongCode(userId: string, ip: string | null | undefined): Promise<never> {
    await this.failed(userId, ip, 'confirm');
    throw new DomainError('INVALID_MFA_CODE', INVALID_CODE);
  }
}
