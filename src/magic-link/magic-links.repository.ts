import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { User } from '../users/entities/user.entity';
import { MAGIC_LINK_ROLES } from './magic-link-roles';

/** The condition on `users u` of a user a link may sign in. */
const MAY_USE_LINK = `u.is_active AND u.role IN (${MAGIC_LINK_ROLES.map((r) => `'${r}'`).join(', ')})`;

/** The queries of `magic_links`, each with the check of the user it may sign in. */
@Injectable()
export class MagicLinksRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(fn);
  }

  /** The user at this address whom a link may sign in. */
  async linkableUser(email: string): Promise<{ id: string; email: string } | undefined> {
    const [user] = (await this.dataSource.query(
      `SELECT id, email FROM users u WHERE u.email = $1 AND ${MAY_USE_LINK}`,
      [email],
    )) as { id: string; email: string }[];
    return user;
  }

  async insert(userId: string, tokenHash: string, expiresAt: Date): Promise<void> {
    await this.dataSource.query(`INSERT INTO magic_links (user_id, token_hash, expires_at) VALUES ($1, $2, $3)`, [
      userId,
      tokenHash,
      expiresAt,
    ]);
  }

  /** Whether the hash names a live link of a user it may sign in, without using it up. */
  async isLive(tokenHash: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `SELECT 1 FROM magic_links m JOIN users u ON u.id = m.user_id
        WHERE m.token_hash = $1 AND m.used_at IS NULL AND m.expires_at > now() AND ${MAY_USE_LINK}`,
      [tokenHash],
    );
    return rows.length > 0;
  }

  /** Uses a live link up (one conditional UPDATE): its user, or undefined when it was not live. */
  async take(tokenHash: string, m: EntityManager): Promise<string | undefined> {
    const [rows] = (await m.query(
      `UPDATE magic_links ml SET used_at = now()
           FROM users u
          WHERE ml.token_hash = $1 AND ml.used_at IS NULL AND ml.expires_at > now()
            AND u.id = ml.user_id AND ${MAY_USE_LINK}
          RETURNING ml.user_id`,
      [tokenHash],
    )) as [{ user_id: string }[], number];
    return rows[0]?.user_id;
  }

  /** Marks the address verified (a link reached it) and reads the user. */
  async verifiedUser(userId: string, m: EntityManager): Promise<User> {
    await m.query(`UPDATE users SET email_verified = true WHERE id = $1 AND NOT email_verified`, [userId]);
    return m.getRepository(User).findOneByOrFail({ id: userId });
  }
}
