import { MigrationInterface, QueryRunner } from 'typeorm';

export class KeyToken1763900400000 implements MigrationInterface {
  name = 'KeyToken1763900400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE clients (
        id varchar(64) PRIMARY KEY,
        name varchar(100) NOT NULL,
        active boolean NOT NULL DEFAULT true,
        token_ttl_seconds integer CHECK (token_ttl_seconds IS NULL OR token_ttl_seconds > 0),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE key_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        client_id varchar(64) NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        family_id uuid NOT NULL,
        key varchar(64) NOT NULL,
        token_hash char(64) NOT NULL,
        refresh_hash char(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        rotated_at timestamptz,
        revoked_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX key_tokens_key_key ON key_tokens (key)`);
    await q.query(`CREATE UNIQUE INDEX key_tokens_refresh_hash_key ON key_tokens (refresh_hash)`);
    await q.query(`CREATE INDEX key_tokens_family_id_idx ON key_tokens (family_id)`);
    await q.query(`CREATE INDEX key_tokens_user_id_idx ON key_tokens (user_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE key_tokens`);
    await q.query(`DROP TABLE clients`);
  }
}
