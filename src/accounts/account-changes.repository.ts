import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** A user a reset link can be mailed to, or the owner of a live reset link. */
export interface ResetUserRow {
  id: string;
  email: string;
}

export interface PendingResetRow extends ResetUserRow {
  username: string | null;
}

/**
 * The queries of the two mailbox changes (`password_resets`, `email_changes`) and the `users` columns they
 * change. Links are taken by one conditional UPDATE each; transactions are opened by the service.
 */
@Injectable()
export class AccountChangesRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  /** An active user with a password at this (normalized) address. */
  async resettableUser(email: string): Promise<ResetUserRow | undefined> {
    const [user] = (await this.db.query(
      `SELECT id, email FROM users WHERE email = $1 AND is_active AND password_hash IS NOT NULL`,
      [email],
    )) as ResetUserRow[];
    return user;
  }

  /** Ends the user's open reset links. */
  async endOpenResets(userId: string, m: EntityManager): Promise<void> {
    await m.query(`UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL`, [userId]);
  }

  async insertReset(userId: string, tokenHash: string, ttlSec: number, m: EntityManager): Promise<void> {
    await m.query(
      `INSERT INTO password_resets (user_id, token_hash, expires_at)
         VALUES ($1, $2, now() + make_interval(secs => $3))`,
      [userId, tokenHash, ttlSec],
    );
  }

  /** The active user behind a live reset link, without spending it. */
  async pendingReset(tokenHash: string): Promise<PendingResetRow | undefined> {
    const [pending] = (await this.db.query(
      `SELECT u.id, u.email, u.username FROM password_resets r JOIN users u ON u.id = r.user_id
        WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > now() AND u.is_active`,
      [tokenHash],
    )) as PendingResetRow[];
    return pending;
  }

  /** Spends a live reset link (one conditional UPDATE): its user, or undefined when it was not live. */
  async takeReset(tokenHash: string, m: EntityManager): Promise<string | undefined> {
    const [rows] = (await m.query(
      `UPDATE password_resets SET used_at = now()
          WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING user_id`,
      [tokenHash],
    )) as [{ user_id: string }[], number];
    return rows[0]?.user_id;
  }

  /** A new password; opening a link to the address proves it, so it counts as verified. */
  async setPasswordVerified(userId: string, passwordHash: string, m: EntityManager): Promise<void> {
    await m.query(`UPDATE users SET password_hash = $2, email_verified = true, updated_at = now() WHERE id = $1`, [
      userId,
      passwordHash,
    ]);
  }

  /** Whether another user has this address. */
  async emailTakenByOther(email: string, userId: string): Promise<boolean> {
    const taken = (await this.db.query(`SELECT 1 FROM users WHERE email = $1 AND id <> $2`, [
      email,
      userId,
    ])) as unknown[];
    return taken.length > 0;
  }

  /** Ends the user's open email-change links. */
  async endOpenEmailChanges(userId: string, m: EntityManager): Promise<void> {
    await m.query(`UPDATE email_changes SET used_at = now() WHERE user_id = $1 AND used_at IS NULL`, [userId]);
  }

  async insertEmailChange(
    userId: string,
    email: string,
    tokenHash: string,
    ttlSec: number,
    m: EntityManager,
  ): Promise<void> {
    await m.query(
      `INSERT INTO email_changes (user_id, new_email, token_hash, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
      [userId, email, tokenHash, ttlSec],
    );
  }

  /** The newest address waiting for its link. */
  async pendingEmail(userId: string): Promise<string | null> {
    const [row] = (await this.db.query(
      `SELECT new_email FROM email_changes WHERE user_id = $1 AND used_at IS NULL AND expires_at > now()
        ORDER BY created_at DESC LIMIT 1`,
      [userId],
    )) as { new_email: string }[];
    return row?.new_email ?? null;
  }

  /** Spends a live email-change link of an active user (one conditional UPDATE). */
  async takeEmailChange(
    tokenHash: string,
    m: EntityManager,
  ): Promise<{ user_id: string; new_email: string } | undefined> {
    const [rows] = (await m.query(
      `UPDATE email_changes SET used_at = now()
          WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
            AND user_id IN (SELECT id FROM users WHERE is_active) RETURNING user_id, new_email`,
      [tokenHash],
    )) as [{ user_id: string; new_email: string }[], number];
    return rows[0];
  }

  /** The user's current address, the row locked until the transaction ends. */
  async lockEmail(userId: string, m: EntityManager): Promise<string> {
    const [old] = (await m.query(`SELECT email FROM users WHERE id = $1 FOR UPDATE`, [userId])) as {
      email: string;
    }[];
    return old.email;
  }

  /** The new address, verified (the link reached it); a unique violation is thrown as it comes. */
  async setEmailVerified(userId: string, email: string, m: EntityManager): Promise<void> {
    await m.query(`UPDATE users SET email = $2, email_verified = true, updated_at = now() WHERE id = $1`, [
      userId,
      email,
    ]);
  }
}
