import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** The queries of `email_verifications` and the `users` columns they change; transactions are the service's. */
@Injectable()
export class EmailVerificationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(fn);
  }

  /** Supersedes the user's open links. */
  async supersedeOpen(userId: string, m: EntityManager): Promise<void> {
    await m.query(
      `UPDATE email_verifications SET superseded_at = now() WHERE user_id = $1 AND used_at IS NULL AND superseded_at IS NULL`,
      [userId],
    );
  }

  async insert(userId: string, tokenHash: string, expiresAt: Date, m: EntityManager): Promise<void> {
    await m.query(`INSERT INTO email_verifications (user_id, token_hash, expires_at) VALUES ($1, $2, $3)`, [
      userId,
      tokenHash,
      expiresAt,
    ]);
  }

  /** Uses a live, newest link up (one conditional UPDATE): its user, or undefined when it was not live. */
  async take(tokenHash: string, m: EntityManager): Promise<string | undefined> {
    const [rows] = (await m.query(
      `UPDATE email_verifications SET used_at = now()
          WHERE token_hash = $1 AND used_at IS NULL AND superseded_at IS NULL AND expires_at > now()
          RETURNING user_id`,
      [tokenHash],
    )) as [{ user_id: string }[], number];
    return rows[0]?.user_id;
  }

  async markVerified(userId: string, m: EntityManager): Promise<void> {
    await m.query(`UPDATE users SET email_verified = true WHERE id = $1`, [userId]);
  }

  /** The active, unverified user at this address, the row locked until the transaction ends. */
  async lockUnverified(email: string, m: EntityManager): Promise<string | undefined> {
    const [user] = (await m.query(
      `SELECT id FROM users WHERE email = $1 AND is_active AND NOT email_verified FOR UPDATE`,
      [email],
    )) as { id: string }[];
    return user?.id;
  }
}
