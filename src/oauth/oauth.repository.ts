import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Role } from '../common/roles';

/** A row of oauth_clients. */
export interface ClientRow {
  client_id: string;
  name: string;
  type: 'confidential' | 'public';
  secret_hash: string | null;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: string[];
  scopes: string[];
  first_party: boolean;
  dynamic: boolean;
  backchannel_logout_uri: string | null;
  created_at: Date;
  updated_at: Date;
  disabled_at: Date | null;
}

/** What a client registration or change writes. */
export interface ClientValues {
  name: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: string[];
  scopes: string[];
  first_party: boolean;
  backchannel_logout_uri: string | null;
}

/** What the provider says of an account (its claims). */
export interface AccountRow {
  id: string;
  email: string;
  email_verified: boolean;
  first_name: string | null;
  last_name: string | null;
  role: string;
  updated_at: Date;
}

export interface ConsentRow {
  client_id: string;
  name: string;
  scopes: string[];
  granted_at: Date;
}

/**
 * The data access of the OAuth provider's own tables (oauth_clients, oauth_consents) and the reads it
 * makes of others' (users, login_sessions). What oidc-provider stores is pg-adapter.ts's; the provider's
 * keys are ProviderKeysService's.
 */
@Injectable()
export class OAuthRepository {
  constructor(private readonly db: DataSource) {}

  listClients(): Promise<ClientRow[]> {
    return this.db.query(`SELECT * FROM oauth_clients ORDER BY created_at DESC`);
  }

  async findClient(clientId: string, enabledOnly = false): Promise<ClientRow | undefined> {
    const rows: ClientRow[] = await this.db.query(
      `SELECT * FROM oauth_clients WHERE client_id = $1 ${enabledOnly ? 'AND disabled_at IS NULL' : ''}`,
      [clientId],
    );
    return rows[0];
  }

  async insertClient(
    clientId: string,
    type: 'confidential' | 'public',
    secretHash: string | null,
    v: ClientValues,
    opts: { dynamic: boolean; createdBy: string | null },
  ): Promise<ClientRow> {
    const rows: ClientRow[] = await this.db.query(
      `INSERT INTO oauth_clients (client_id, name, type, secret_hash, redirect_uris, post_logout_redirect_uris,
         grant_types, scopes, first_party, dynamic, backchannel_logout_uri, created_by)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, $8::jsonb, $9, $10, $11, $12) RETURNING *`,
      [
        clientId,
        v.name,
        type,
        secretHash,
        JSON.stringify(v.redirect_uris),
        JSON.stringify(v.post_logout_redirect_uris),
        JSON.stringify(v.grant_types),
        JSON.stringify(v.scopes),
        v.first_party,
        opts.dynamic,
        v.backchannel_logout_uri,
        opts.createdBy,
      ],
    );
    return rows[0];
  }

  /** Writes the values; `enabled` true enables, false disables, null leaves as it is. */
  async updateClient(clientId: string, v: ClientValues, enabled: boolean | null): Promise<ClientRow> {
    const [rows] = (await this.db.query(
      `UPDATE oauth_clients SET name = $2, redirect_uris = $3::jsonb, post_logout_redirect_uris = $4::jsonb,
         grant_types = $5::jsonb, scopes = $6::jsonb, first_party = $7, backchannel_logout_uri = $8,
         disabled_at = CASE WHEN $9::boolean IS NULL THEN disabled_at WHEN $9 THEN NULL ELSE coalesce(disabled_at, now()) END,
         updated_at = now()
       WHERE client_id = $1 RETURNING *`,
      [
        clientId,
        v.name,
        JSON.stringify(v.redirect_uris),
        JSON.stringify(v.post_logout_redirect_uris),
        JSON.stringify(v.grant_types),
        JSON.stringify(v.scopes),
        v.first_party,
        v.backchannel_logout_uri,
        enabled,
      ],
    )) as [ClientRow[], number];
    return rows[0];
  }

  /** Disables the client and deletes everything it was issued and every consent it had, in one transaction. */
  async disableClient(clientId: string): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query(
        `UPDATE oauth_clients SET disabled_at = coalesce(disabled_at, now()), updated_at = now() WHERE client_id = $1`,
        [clientId],
      );
      await m.query(`DELETE FROM oauth_models WHERE client_id = $1`, [clientId]);
      await m.query(`DELETE FROM oauth_consents WHERE client_id = $1`, [clientId]);
    });
  }

  async setSecretHash(clientId: string, hash: string): Promise<void> {
    await this.db.query(`UPDATE oauth_clients SET secret_hash = $2, updated_at = now() WHERE client_id = $1`, [
      clientId,
      hash,
    ]);
  }

  /** A self-registered public client (a registration of the same id changes only a dynamic client). */
  async upsertDynamicClient(
    clientId: string,
    v: Omit<ClientValues, 'first_party' | 'backchannel_logout_uri'>,
  ): Promise<void> {
    await this.db.query(
      `INSERT INTO oauth_clients (client_id, name, type, redirect_uris, post_logout_redirect_uris, grant_types, scopes, dynamic)
       VALUES ($1, $2, 'public', $3::jsonb, $4::jsonb, $5::jsonb, $6::jsonb, true)
       ON CONFLICT (client_id) DO UPDATE SET name = EXCLUDED.name, redirect_uris = EXCLUDED.redirect_uris,
         post_logout_redirect_uris = EXCLUDED.post_logout_redirect_uris, grant_types = EXCLUDED.grant_types,
         scopes = EXCLUDED.scopes, updated_at = now()
       WHERE oauth_clients.dynamic`,
      [
        clientId,
        v.name,
        JSON.stringify(v.redirect_uris),
        JSON.stringify(v.post_logout_redirect_uris),
        JSON.stringify(v.grant_types),
        JSON.stringify(v.scopes),
      ],
    );
  }

  /** The user's consents to enabled clients, the newest first. */
  listConsents(userId: string): Promise<ConsentRow[]> {
    return this.db.query(
      `SELECT c.client_id, c.name, g.scopes, g.granted_at FROM oauth_consents g
         JOIN oauth_clients c ON c.client_id = g.client_id
        WHERE g.user_id = $1 AND c.disabled_at IS NULL ORDER BY g.granted_at DESC`,
      [userId],
    );
  }

  async consentGrantId(userId: string, clientId: string): Promise<string | undefined> {
    const rows: { grant_id: string | null }[] = await this.db.query(
      `SELECT grant_id FROM oauth_consents WHERE user_id::text = $1 AND client_id = $2`,
      [userId, clientId],
    );
    return rows[0]?.grant_id ?? undefined;
  }

  async upsertConsent(userId: string, clientId: string, scopes: string[], grantId: string): Promise<void> {
    await this.db.query(
      `INSERT INTO oauth_consents (user_id, client_id, scopes, grant_id) VALUES ($1, $2, $3::jsonb, $4)
       ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = EXCLUDED.scopes, grant_id = EXCLUDED.grant_id, granted_at = now()`,
      [userId, clientId, JSON.stringify(scopes), grantId],
    );
  }

  /**
   * Deletes the user's consent to the client and every code, token and grant of that client for that
   * user, in one transaction. Whether there was anything to delete.
   */
  async revokeConsent(userId: string, clientId: string): Promise<boolean> {
    return this.db.transaction(async (m) => {
      const consents: { n: number }[] = await m.query(
        `WITH d AS (DELETE FROM oauth_consents WHERE user_id = $1 AND client_id = $2 RETURNING 1) SELECT count(*)::int AS n FROM d`,
        [userId, clientId],
      );
      const grants: { id: string }[] = await m.query(
        `SELECT id FROM oauth_models WHERE model = 'Grant' AND account_id = $1 AND client_id = $2`,
        [userId, clientId],
      );
      const tokens: { n: number }[] = await m.query(
        `WITH d AS (DELETE FROM oauth_models WHERE account_id = $1 AND client_id = $2 RETURNING 1) SELECT count(*)::int AS n FROM d`,
        [userId, clientId],
      );
      if (grants.length) {
        await m.query(`DELETE FROM oauth_models WHERE grant_id = ANY($1::text[])`, [grants.map((g) => g.id)]);
      }
      return consents[0].n > 0 || tokens[0].n > 0;
    });
  }

  /**
   * The user of an access token (by its jti) when the token is on record, its grant too, its client
   * enabled and its user active.
   */
  async accessTokenHolder(jti: string): Promise<{ id: string; role: Role } | undefined> {
    const rows: { id: string; role: Role }[] = await this.db.query(
      `SELECT u.id, u.role FROM oauth_models m
         JOIN users u ON u.id::text = m.account_id
         JOIN oauth_clients c ON c.client_id = m.client_id
        WHERE m.model = 'AccessToken' AND m.id = $1 AND (m.expires_at IS NULL OR m.expires_at > now())
          AND u.is_active AND c.disabled_at IS NULL
          AND (m.grant_id IS NULL OR EXISTS (
                SELECT 1 FROM oauth_models g
                 WHERE g.model = 'Grant' AND g.id = m.grant_id AND (g.expires_at IS NULL OR g.expires_at > now())))`,
      [jti.slice(0, 255)],
    );
    return rows[0];
  }

  async activeAccount(sub: string): Promise<AccountRow | undefined> {
    const rows: AccountRow[] = await this.db.query(
      `SELECT id, email, email_verified, first_name, last_name, role, updated_at FROM users WHERE id::text = $1 AND is_active`,
      [sub],
    );
    return rows[0];
  }

  async mfaEnabled(userId: string): Promise<boolean> {
    const rows: { mfa_enabled: boolean }[] = await this.db.query(`SELECT mfa_enabled FROM users WHERE id = $1`, [
      userId,
    ]);
    return rows[0]?.mfa_enabled === true;
  }

  /** Whether the service's login session `sid` of that user is live (not revoked, not expired). */
  async liveLoginSession(sid: string, userId: string): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `SELECT 1 FROM login_sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now()`,
      [sid, userId],
    );
    return rows.length > 0;
  }
}
