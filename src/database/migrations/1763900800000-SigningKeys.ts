import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signing keys of access tokens for JWT_ALGORITHM=ES256 (API.md 10). Each row is a key and its whole life
 * in dates, so that every instance derives the same answer from the rows alone: the JWKS at T holds the
 * keys with publish_at <= T < expire_at, and the key that signs at T is the one with the latest
 * activate_at <= T. A rotation inserts the next key and sets the current key's retire_at and expire_at in
 * one transaction. Unused with HS256.
 */
export class SigningKeys1763900800000 implements MigrationInterface {
  name = 'SigningKeys1763900800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE signing_keys (
        -- Random base64url, the JWT header's kid.
        kid varchar(64) PRIMARY KEY,
        alg varchar(16) NOT NULL CHECK (alg IN ('ES256')),
        -- The public key as a JWK (kty, crv, x, y): what the JWKS publishes.
        public_jwk jsonb NOT NULL,
        -- The private key (PKCS#8 DER), AES-256-GCM under a key derived from JWT_SECRET and bound to the kid;
        -- wiped once the key has retired, since it never signs again.
        private_key_enc bytea,
        created_at timestamptz NOT NULL DEFAULT now(),
        publish_at timestamptz NOT NULL,
        activate_at timestamptz NOT NULL,
        retire_at timestamptz,
        expire_at timestamptz,
        CHECK (publish_at <= activate_at),
        CHECK (retire_at IS NULL OR retire_at >= activate_at),
        CHECK (expire_at IS NULL OR (retire_at IS NOT NULL AND expire_at >= retire_at))
      )`);
    await q.query(`CREATE UNIQUE INDEX signing_keys_activate_at_key ON signing_keys (activate_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE signing_keys`);
  }
}
