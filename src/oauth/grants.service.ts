import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { AuthUser } from '../access/auth-user';
import { DomainError } from '../common/errors/domain-error';
import type { OAuthGrantView } from './dto';

/**
 * A user's consents and what they issued. Revoking deletes the consent and every code, token and grant
 * of that client for that user (the rows of oauth_models carry both), so each stops working at once.
 */
@Injectable()
export class GrantsService {
  constructor(
    private readonly db: DataSource,
    private readonly audit: AuditService,
  ) {}

  async list(userId: string): Promise<OAuthGrantView[]> {
    const rows: { client_id: string; name: string; scopes: string[]; granted_at: Date }[] = await this.db.query(
      `SELECT c.client_id, c.name, g.scopes, g.granted_at FROM oauth_consents g
         JOIN oauth_clients c ON c.client_id = g.client_id
        WHERE g.user_id = $1 AND c.disabled_at IS NULL ORDER BY g.granted_at DESC`,
      [userId],
    );
    return rows.map((r) => ({
      client_id: r.client_id,
      client_name: r.name,
      scopes: r.scopes,
      granted_at: r.granted_at.toISOString(),
    }));
  }

  async revoke(user: AuthUser, clientId: string, ip: string): Promise<void> {
    if (typeof clientId !== 'string' || clientId.length > 64) throw new DomainError('NOT_FOUND', 'No such application');
    const removed = await this.db.transaction(async (m) => {
      const consents: { n: number }[] = await m.query(
        `WITH d AS (DELETE FROM oauth_consents WHERE user_id = $1 AND client_id = $2 RETURNING 1) SELECT count(*)::int AS n FROM d`,
        [user.id, clientId],
      );
      const grants: { id: string }[] = await m.query(
        `SELECT id FROM oauth_models WHERE model = 'Grant' AND account_id = $1 AND client_id = $2`,
        [user.id, clientId],
      );
      const tokens: { n: number }[] = await m.query(
        `WITH d AS (DELETE FROM oauth_models WHERE account_id = $1 AND client_id = $2 RETURNING 1) SELECT count(*)::int AS n FROM d`,
        [user.id, clientId],
      );
      if (grants.length) {
        await m.query(`DELETE FROM oauth_models WHERE grant_id = ANY($1::text[])`, [grants.map((g) => g.id)]);
      }
      return consents[0].n > 0 || tokens[0].n > 0;
    });
    if (!removed) throw new DomainError('NOT_FOUND', 'This application has no access to your account');
    await this.audit.record('oauth_consent_revoked', { userId: user.id, ip, details: { client_id: clientId } });
  }
}
