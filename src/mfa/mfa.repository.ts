import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { FactorType } from './entities';

/** A factor as the rules read it (secrets only where a rule needs them: never in a view). */
export interface FactorRow {
  id: string;
  type: FactorType;
  name: string;
  secret_enc: Buffer | null;
  phone: string | null;
  code_hash: string | null;
  code_live: boolean;
  confirmed_at: Date | null;
  created_at: Date;
  last_used_at: Date | null;
}

/** Where a code goes: the factor's type and phone, and its user's address. */
export interface CodeTarget {
  type: FactorType;
  phone: string | null;
  email: string;
}

/** What a code factor must hold to be checked (the columns `useCode` reads). */
const PROVABLE = `id, type, name, secret_enc, code_hash, code_expires_at > now() AS code_live, confirmed_at,
                  created_at, last_used_at`;

/**
 * The queries of second factors (`mfa_factors`, `mfa_recovery_codes`, and `users.mfa_enabled`). Every use of
 * a code, a TOTP step or a recovery code is one conditional UPDATE that says whether it won, so that racing
 * requests with the same secret get one success; the rules around them are MfaService's.
 */
@Injectable()
export class MfaRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  private db(m?: EntityManager): EntityManager {
    return m ?? this.dataSource.manager;
  }

  // --- reading

  async confirmedFactors(userId: string, m?: EntityManager): Promise<{ id: string; type: FactorType; name: string }[]> {
    return (await this.db(m).query(
      `SELECT id, type, name FROM mfa_factors WHERE user_id = $1 AND confirmed_at IS NOT NULL ORDER BY created_at`,
      [userId],
    )) as { id: string; type: FactorType; name: string }[];
  }

  async confirmedViews(userId: string): Promise<FactorRow[]> {
    return (await this.dataSource.query(
      `SELECT id, type, name, created_at, last_used_at FROM mfa_factors
        WHERE user_id = $1 AND confirmed_at IS NOT NULL ORDER BY created_at`,
      [userId],
    )) as FactorRow[];
  }

  async recoveryCodesLeft(userId: string): Promise<number> {
    const [{ left }] = (await this.dataSource.query(
      `SELECT count(*)::int AS left FROM mfa_recovery_codes WHERE user_id = $1 AND used_at IS NULL`,
      [userId],
    )) as { left: number }[];
    return left;
  }

  /** Confirmed factors, and factors waiting for confirmation other than a pending one of type `except`. */
  async factorCounts(userId: string, except: FactorType | null): Promise<{ confirmed: number; pending: number }> {
    const [{ n, p }] = (await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE confirmed_at IS NOT NULL)::int AS n,
              count(*) FILTER (WHERE confirmed_at IS NULL AND ($2::text IS NULL OR type::text <> $2))::int AS p
         FROM mfa_factors WHERE user_id = $1`,
      [userId, except],
    )) as { n: number; p: number }[];
    return { confirmed: n, pending: p };
  }

  /** The user's email factor, or SMS factor of that phone, if there is one. */
  async codeFactorOf(userId: string, type: 'email' | 'sms', phone: string | null): Promise<string | undefined> {
    const [existing] = (await this.dataSource.query(
      `SELECT id FROM mfa_factors WHERE user_id = $1 AND type = $2 AND phone IS NOT DISTINCT FROM $3`,
      [userId, type, phone],
    )) as { id: string }[];
    return existing?.id;
  }

  async codeTarget(factorId: string, userId: string): Promise<CodeTarget | undefined> {
    const [target] = (await this.dataSource.query(
      `SELECT f.type, f.phone, u.email FROM mfa_factors f JOIN users u ON u.id = f.user_id
        WHERE f.id = $1 AND f.user_id = $2 AND f.type IN ('email', 'sms')`,
      [factorId, userId],
    )) as CodeTarget[];
    return target;
  }

  /** A code factor of the user to confirm (any state), inside the confirmation's transaction. */
  async factorToConfirm(m: EntityManager, factorId: string, userId: string): Promise<FactorRow | undefined> {
    const [factor] = (await m.query(
      `SELECT ${PROVABLE}
           FROM mfa_factors WHERE id = $1 AND user_id = $2 AND type <> 'passkey'`,
      [factorId, userId],
    )) as FactorRow[];
    return factor;
  }

  /** The confirmed code factors a second step may match, TOTP first (or the one factor named). */
  async provableFactors(userId: string, factorId: string | null): Promise<FactorRow[]> {
    return (await this.dataSource.query(
      `SELECT ${PROVABLE}
         FROM mfa_factors
        WHERE user_id = $1 AND confirmed_at IS NOT NULL AND type IN ('totp', 'email', 'sms')
          AND ($2::uuid IS NULL OR id = $2::uuid)
        ORDER BY type = 'totp' DESC, created_at`,
      [userId, factorId],
    )) as FactorRow[];
  }

  async factorToRemove(
    m: EntityManager,
    factorId: string,
    userId: string,
  ): Promise<{ id: string; type: FactorType; confirmed_at: Date | null } | undefined> {
    const [factor] = (await m.query(`SELECT id, type, confirmed_at FROM mfa_factors WHERE id = $1 AND user_id = $2`, [
      factorId,
      userId,
    ])) as { id: string; type: FactorType; confirmed_at: Date | null }[];
    return factor;
  }

  async otherConfirmedFactors(m: EntityManager, userId: string, factorId: string): Promise<number> {
    const [{ others }] = (await m.query(
      `SELECT count(*)::int AS others FROM mfa_factors WHERE user_id = $1 AND id <> $2 AND confirmed_at IS NOT NULL`,
      [userId, factorId],
    )) as { others: number }[];
    return others;
  }

  // --- the account's MFA state, under its row lock

  /**
   * Locks the user's row for the transaction (one MFA change per user at a time: two factors confirmed
   * together must not both issue recovery codes) and tells whether MFA is on; undefined for no such user.
   */
  async lockUser(m: EntityManager, userId: string): Promise<{ mfaEnabled: boolean } | undefined> {
    const [user] = (await m.query(`SELECT mfa_enabled FROM users WHERE id = $1 FOR UPDATE`, [userId])) as {
      mfa_enabled: boolean;
    }[];
    return user && { mfaEnabled: user.mfa_enabled };
  }

  async turnOn(m: EntityManager, userId: string): Promise<void> {
    await m.query(`UPDATE users SET mfa_enabled = true WHERE id = $1 AND NOT mfa_enabled`, [userId]);
  }

  /** MFA off for a user who has no confirmed factor left: the recovery codes go with it. */
  async turnOff(m: EntityManager, userId: string): Promise<void> {
    await m.query(`DELETE FROM mfa_recovery_codes WHERE user_id = $1`, [userId]);
    await m.query(`UPDATE users SET mfa_enabled = false WHERE id = $1`, [userId]);
  }

  /** An admin's reset: MFA off, every factor and recovery code gone; false for no such user. */
  async resetAll(m: EntityManager, userId: string): Promise<boolean> {
    const [rows] = (await m.query(`UPDATE users SET mfa_enabled = false WHERE id = $1 RETURNING id`, [userId])) as [
      unknown[],
      number,
    ];
    if (!rows.length) return false;
    await m.query(`DELETE FROM mfa_factors WHERE user_id = $1`, [userId]);
    await m.query(`DELETE FROM mfa_recovery_codes WHERE user_id = $1`, [userId]);
    return true;
  }

  // --- writing factors

  /** A new pending TOTP factor in place of one that was never confirmed; its seed sealed under its own id. */
  async replacePendingTotp(
    m: EntityManager,
    userId: string,
    name: string,
    seal: (factorId: string) => Buffer,
  ): Promise<string> {
    await m.query(`DELETE FROM mfa_factors WHERE user_id = $1 AND type = 'totp' AND confirmed_at IS NULL`, [userId]);
    const [{ id }] = (await m.query(
      `INSERT INTO mfa_factors (user_id, type, name) VALUES ($1, 'totp', $2) RETURNING id`,
      [userId, name.slice(0, 100)],
    )) as { id: string }[];
    await m.query(`UPDATE mfa_factors SET secret_enc = $2 WHERE id = $1`, [id, seal(id)]);
    return id;
  }

  async insertPendingCodeFactor(
    userId: string,
    type: 'email' | 'sms',
    name: string,
    phone: string | null,
  ): Promise<string> {
    const [{ id }] = (await this.dataSource.query(
      `INSERT INTO mfa_factors (user_id, type, name, phone) VALUES ($1, $2, $3, $4) RETURNING id`,
      [userId, type, name, phone],
    )) as { id: string }[];
    return id;
  }

  async insertConfirmedFactor(m: EntityManager, userId: string, type: FactorType, name: string): Promise<FactorRow> {
    const [factor] = (await m.query(
      `INSERT INTO mfa_factors (user_id, type, name, confirmed_at) VALUES ($1, $2, $3, now())
         RETURNING id, type, name, created_at, last_used_at`,
      [userId, type, name.slice(0, 100)],
    )) as FactorRow[];
    return factor;
  }

  async markConfirmed(m: EntityManager, factorId: string): Promise<void> {
    await m.query(`UPDATE mfa_factors SET confirmed_at = coalesce(confirmed_at, now()) WHERE id = $1`, [factorId]);
  }

  async deleteFactor(m: EntityManager, factorId: string): Promise<void> {
    await m.query(`DELETE FROM mfa_factors WHERE id = $1`, [factorId]);
  }

  // --- single-use secrets: each one conditional UPDATE that says whether it won

  /** A new live code of an email or SMS factor of the user (the older one stops working); its target. */
  async storeCode(factorId: string, userId: string, codeHash: string, ttlSec: number): Promise<CodeTarget | undefined> {
    const [rows] = (await this.dataSource.query(
      `UPDATE mfa_factors f SET code_hash = $3, code_expires_at = now() + make_interval(secs => $4)
         FROM users u
        WHERE f.id = $1 AND f.user_id = $2 AND f.type IN ('email', 'sms') AND u.id = f.user_id
        RETURNING f.type, f.phone, u.email`,
      [factorId, userId, codeHash, ttlSec],
    )) as [CodeTarget[], number];
    return rows[0];
  }

  /** Moves a TOTP factor's last accepted step forward; false when that step (or a later one) was used. */
  async advanceTotpStep(factorId: string, step: number, m?: EntityManager): Promise<boolean> {
    const [rows] = (await this.db(m).query(
      `UPDATE mfa_factors SET last_step = $2, last_used_at = now()
          WHERE id = $1 AND (last_step IS NULL OR last_step < $2) RETURNING id`,
      [factorId, step],
    )) as [unknown[], number];
    return rows.length > 0;
  }

  /** Spends the live code of an email or SMS factor; false when another request spent it first. */
  async spendCode(factorId: string, codeHash: string | null, m?: EntityManager): Promise<boolean> {
    const [rows] = (await this.db(m).query(
      `UPDATE mfa_factors SET code_hash = NULL, code_expires_at = NULL, last_used_at = now()
        WHERE id = $1 AND code_hash = $2 AND code_expires_at > now() RETURNING id`,
      [factorId, codeHash],
    )) as [unknown[], number];
    return rows.length > 0;
  }

  async spendRecoveryCode(userId: string, codeHash: string): Promise<boolean> {
    const [rows] = (await this.dataSource.query(
      `UPDATE mfa_recovery_codes SET used_at = now()
          WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING id`,
      [userId, codeHash],
    )) as [unknown[], number];
    return rows.length > 0;
  }

  async replaceRecoveryCodes(m: EntityManager, userId: string, codeHashes: string[]): Promise<void> {
    await m.query(`DELETE FROM mfa_recovery_codes WHERE user_id = $1`, [userId]);
    await m.query(`INSERT INTO mfa_recovery_codes (user_id, code_hash) SELECT $1, unnest($2::char(64)[])`, [
      userId,
      codeHashes,
    ]);
  }
}
