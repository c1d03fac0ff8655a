import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Passkeys (API.md 8). A passkey is an MFA factor of type `passkey`: its row in mfa_factors holds what every
 * factor has (user, name, created_at, confirmed_at, last_used_at), and its row here, under the same id, what
 * WebAuthn needs. Deleting the factor deletes the passkey. The public key is public: stored as it came.
 * Ceremony challenges are kept here too, by hash, bound to what they were issued for, and used once.
 */
export class Passkeys1763900900000 implements MigrationInterface {
  name = 'Passkeys1763900900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE passkeys (
        id uuid PRIMARY KEY REFERENCES mfa_factors(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        -- The credential id as base64url (WebAuthn allows up to 1023 bytes).
        credential_id varchar(1400) NOT NULL,
        -- The COSE_Key of the credential, as the authenticator gave it.
        public_key bytea NOT NULL,
        -- The signature counter last seen; one that does not move forward is a cloned authenticator.
        counter bigint NOT NULL DEFAULT 0 CHECK (counter >= 0),
        transports varchar(16)[] NOT NULL DEFAULT '{}',
        aaguid uuid NOT NULL,
        device_type varchar(16) NOT NULL CHECK (device_type IN ('singleDevice', 'multiDevice')),
        backed_up boolean NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX passkeys_credential_id_key ON passkeys (credential_id)`);
    await q.query(`CREATE INDEX passkeys_user_id_idx ON passkeys (user_id)`);
    await q.query(`
      CREATE TABLE webauthn_challenges (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        purpose varchar(16) NOT NULL CHECK (purpose IN ('register', 'login', 'mfa')),
        -- sha256 of the challenge: the browser echoes the challenge in clientDataJSON, and it is found by it.
        challenge_hash char(64) NOT NULL,
        -- register: the user adding a passkey; login: the user an email named (null: discoverable, or an
        -- unknown email); mfa: the user of the second step.
        user_id uuid REFERENCES users(id) ON DELETE CASCADE,
        -- login: no email was given, so any passkey of any user may answer.
        discoverable boolean NOT NULL DEFAULT false,
        -- mfa: the pending second step and the passkey factor it asked for.
        mfa_challenge_id uuid REFERENCES mfa_challenges(id) ON DELETE CASCADE,
        factor_id uuid REFERENCES mfa_factors(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        CHECK (purpose <> 'register' OR user_id IS NOT NULL),
        CHECK (purpose <> 'mfa' OR (mfa_challenge_id IS NOT NULL AND factor_id IS NOT NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX webauthn_challenges_challenge_hash_key ON webauthn_challenges (challenge_hash)`);
    await q.query(`CREATE INDEX webauthn_challenges_expires_at_idx ON webauthn_challenges (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webauthn_challenges`);
    await q.query(`DROP TABLE passkeys`);
  }
}
