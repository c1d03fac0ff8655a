import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

export interface SsoLinkView {
  id: string;
  provider_id: string;
  provider_name: string;
  provider_type: 'oidc' | 'saml';
  /** The provider's identifier of the person (OIDC `sub`, SAML NameID): not a secret. */
  subject: string;
  created_at: Date;
  last_login_at: Date | null;
}

/** The queries of `sso_links`: which provider's subject is which of our users. */
@Injectable()
export class SsoLinksRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  /** Marks the link's sign-in; its user, or undefined when the subject has no link. */
  async touch(providerId: string, subject: string): Promise<string | undefined> {
    const linked = (await this.db.query(
      `UPDATE sso_links SET last_login_at = now() WHERE provider_id = $1 AND subject = $2 RETURNING user_id`,
      [providerId, subject],
    )) as [{ user_id: string }[], number];
    return linked[0][0]?.user_id;
  }

  /** A user's links, with their providers, the oldest first. */
  async of(userId: string): Promise<SsoLinkView[]> {
    const rows: SsoLinkView[] = await this.db.query(
      `SELECT l.id, l.provider_id, p.name AS provider_name, p.type AS provider_type, l.subject,
              l.created_at, l.last_login_at
         FROM sso_links l JOIN sso_providers p ON p.id = l.provider_id
        WHERE l.user_id = $1 ORDER BY l.created_at`,
      [userId],
    );
    return rows;
  }

  async insert(providerId: string, subject: string, userId: string, m = this.db.manager): Promise<void> {
    await m.query(`INSERT INTO sso_links (provider_id, subject, user_id, last_login_at) VALUES ($1, $2, $3, now())`, [
      providerId,
      subject,
      userId,
    ]);
  }
}
