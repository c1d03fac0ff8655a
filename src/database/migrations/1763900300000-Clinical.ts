import { MigrationInterface, QueryRunner } from 'typeorm';

export class Clinical1763900300000 implements MigrationInterface {
  name = 'Clinical1763900300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE email_verifications (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash char(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        superseded_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX email_verifications_token_hash_key ON email_verifications (token_hash)`);
    await q.query(`CREATE INDEX email_verifications_user_id_idx ON email_verifications (user_id)`);
    await q.query(`
      CREATE TABLE appointments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        doctor_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        patient_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        scheduled_at timestamptz NOT NULL,
        reason text NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'scheduled',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX appointments_doctor_id_idx ON appointments (doctor_id, scheduled_at)`);
    await q.query(`CREATE INDEX appointments_patient_id_idx ON appointments (patient_id, scheduled_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE appointments`);
    await q.query(`DROP TABLE email_verifications`);
  }
}
