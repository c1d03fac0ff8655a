import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who may change an account (API.md 12): pending email changes confirmed by a link to the new address,
 * password resets, SSO one-time codes bound to the browser that started the sign-in, and the SSO flow's
 * PKCE verifier and nonce sealed rather than stored in clear. Attempts and codes in flight live minutes:
 * they are dropped rather than converted (a sign-in under way during the upgrade starts again).
 */
export class Trust1763901100000 implements MigrationInterface {
  name = 'Trust1763901100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE email_changes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        new_email varchar(320) NOT NULL,
        -- sha256 of the link's token; the token itself is only in the mail.
        token_hash char(64) NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await q.query(`CREATE INDEX email_changes_user_id_idx ON email_changes (user_id)`);
    await q.query(`
      CREATE TABLE password_resets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash char(64) NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await q.query(`CREATE INDEX password_resets_user_id_idx ON password_resets (user_id)`);
    await q.query(`DELETE FROM sso_codes`);
    await q.query(`ALTER TABLE sso_codes ADD COLUMN browser_hash char(64) NOT NULL`);
    await q.query(`DELETE FROM sso_flows`);
    await q.query(`ALTER TABLE sso_flows DROP COLUMN nonce, DROP COLUMN code_verifier`);
    await q.query(`ALTER TABLE sso_flows ADD COLUMN nonce_enc bytea, ADD COLUMN code_verifier_enc bytea`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM sso_flows`);
    await q.query(`ALTER TABLE sso_flows DROP COLUMN nonce_enc, DROP COLUMN code_verifier_enc`);
    await q.query(`ALTER TABLE sso_flows ADD COLUMN nonce varchar(128), ADD COLUMN code_verifier varchar(128)`);
    await q.query(`DELETE FROM sso_codes`);
    await q.query(`ALTER TABLE sso_codes DROP COLUMN browser_hash`);
    await q.query(`DROP TABLE password_resets`);
    await q.query(`DROP TABLE email_changes`);
  }
}
