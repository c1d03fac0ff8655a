import { MigrationInterface, QueryRunner } from 'typeorm';

export class Iam1763900500000 implements MigrationInterface {
  name = 'Iam1763900500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE spaces (
        id bigserial PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name varchar(100) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX spaces_user_id_idx ON spaces (user_id, created_at DESC)`);
    await q.query(`
      CREATE TABLE iam_tokens (
        id bigserial PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        space_id bigint REFERENCES spaces(id) ON DELETE CASCADE,
        key_hash char(64) NOT NULL,
        prefix varchar(16) NOT NULL,
        permanent boolean NOT NULL,
        is_active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        CHECK (permanent = (expires_at IS NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX iam_tokens_key_hash_key ON iam_tokens (key_hash)`);
    await q.query(`CREATE INDEX iam_tokens_user_id_idx ON iam_tokens (user_id, created_at DESC)`);
    await q.query(`CREATE INDEX iam_tokens_space_id_idx ON iam_tokens (space_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE iam_tokens`);
    await q.query(`DROP TABLE spaces`);
  }
}
