import { MigrationInterface, QueryRunner } from 'typeorm';

export class Foundation1763900000000 implements MigrationInterface {
  name = 'Foundation1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email varchar(320) NOT NULL,
        username varchar(64),
        password_hash text,
        role varchar(16) NOT NULL
          CHECK (role IN ('admin','researcher','coordinator','viewer','doctor','patient','caregiver')),
        first_name varchar(100),
        last_name varchar(100),
        title varchar(50),
        specialty varchar(100),
        ehr_system_type varchar(100),
        ehr_system_name varchar(100),
        email_verified boolean NOT NULL DEFAULT false,
        is_active boolean NOT NULL DEFAULT true,
        subscription_status varchar(16) NOT NULL DEFAULT 'none'
          CHECK (subscription_status IN ('none','active','canceled','expired')),
        subscription_ends_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email))`);
    await q.query(`CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username)) WHERE username IS NOT NULL`);
    await q.query(`CREATE INDEX users_role_idx ON users (role)`);
    await q.query(`
      CREATE TABLE login_sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        method varchar(32) NOT NULL,
        remember boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        last_used_at timestamptz,
        revoked_at timestamptz,
        revoked_reason varchar(32),
        ip varchar(64),
        user_agent varchar(256)
      )`);
    await q.query(`CREATE INDEX login_sessions_user_id_idx ON login_sessions (user_id)`);
    await q.query(
      `CREATE INDEX login_sessions_revoked_at_idx ON login_sessions (revoked_at) WHERE revoked_at IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE login_sessions`);
    await q.query(`DROP TABLE users`);
  }
}
