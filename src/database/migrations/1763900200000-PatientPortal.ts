import { MigrationInterface, QueryRunner } from 'typeorm';

export class PatientPortal1763900200000 implements MigrationInterface {
  name = 'PatientPortal1763900200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE magic_links (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash char(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX magic_links_token_hash_key ON magic_links (token_hash)`);
    await q.query(`CREATE INDEX magic_links_user_id_idx ON magic_links (user_id)`);
    await q.query(`
      CREATE TABLE assessment_sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        key_hash char(64) NOT NULL,
        participant_id varchar(64) NOT NULL,
        battery_id varchar(64) NOT NULL,
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        status varchar(16) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'submitted')),
        started_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        submitted_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX assessment_sessions_key_hash_key ON assessment_sessions (key_hash)`);
    await q.query(`
      CREATE TABLE submissions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        session_id uuid NOT NULL REFERENCES assessment_sessions(id) ON DELETE CASCADE,
        task_summaries jsonb NOT NULL,
        trials jsonb NOT NULL,
        trial_count integer NOT NULL,
        body_hash char(64) NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    // One submission per session, whatever races: the database enforces it.
    await q.query(`CREATE UNIQUE INDEX submissions_session_id_key ON submissions (session_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE submissions`);
    await q.query(`DROP TABLE assessment_sessions`);
    await q.query(`DROP TABLE magic_links`);
  }
}
