import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two-factor authentication (API.md 6): factors, recovery codes and the pending second steps of sign-ins;
 * the assurance of each login session (kept by its refreshes); whether a user has MFA on.
 */
export class Mfa1763900700000 implements MigrationInterface {
  name = 'Mfa1763900700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN mfa_enabled boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE login_sessions ADD COLUMN amr varchar(16)[] NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE login_sessions ADD COLUMN aal smallint NOT NULL DEFAULT 1`);
    await q.query(`
      CREATE TABLE mfa_factors (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        type varchar(16) NOT NULL CHECK (type IN ('totp', 'email', 'sms', 'passkey')),
        name varchar(100) NOT NULL,
        -- TOTP: the seed, AES-256-GCM under a key derived from the server's secret (it must be read back).
        secret_enc bytea,
        phone varchar(16),
        -- TOTP: the last accepted time step; a code is accepted only for a later step (no replay).
        last_step bigint,
        -- email and SMS: the one live code (an HMAC under a server key), replaced by a newer one.
        code_hash char(64),
        code_expires_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        confirmed_at timestamptz,
        last_used_at timestamptz
      )`);
    await q.query(`CREATE INDEX mfa_factors_user_id_idx ON mfa_factors (user_id)`);
    await q.query(`
      CREATE TABLE mfa_recovery_codes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        code_hash char(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        used_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX mfa_recovery_codes_user_code_key ON mfa_recovery_codes (user_id, code_hash)`);
    await q.query(`
      CREATE TABLE mfa_challenges (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash char(64) NOT NULL,
        -- Where the sign-in began and with what options, so that the second step answers in its shape.
        flow jsonb NOT NULL,
        failures smallint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX mfa_challenges_token_hash_key ON mfa_challenges (token_hash)`);
    await q.query(`CREATE INDEX mfa_challenges_expires_at_idx ON mfa_challenges (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE mfa_challenges`);
    await q.query(`DROP TABLE mfa_recovery_codes`);
    await q.query(`DROP TABLE mfa_factors`);
    await q.query(`ALTER TABLE login_sessions DROP COLUMN aal`);
    await q.query(`ALTER TABLE login_sessions DROP COLUMN amr`);
    await q.query(`ALTER TABLE users DROP COLUMN mfa_enabled`);
  }
}
