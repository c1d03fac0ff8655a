import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The second step of a sign-in goes one way (the house issue): `mfa_challenges` keeps what the first factor
 * proved (its RFC 8176 methods and, for a passkey without user verification, which factor it was), and where
 * the sign-in began (surface, method, remember, set_cookie) moves to auth/'s `pending_sign_ins`, one row per
 * challenge, gone with it. Live challenges (five minutes at most) are carried over, so a second step begun
 * before the upgrade still finishes after it.
 */
export class House1763901200000 implements MigrationInterface {
  name = 'House1763901200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE pending_sign_ins (
        challenge_id uuid PRIMARY KEY REFERENCES mfa_challenges(id) ON DELETE CASCADE,
        surface varchar(16) NOT NULL,
        method varchar(32) NOT NULL,
        remember boolean NOT NULL DEFAULT false,
        set_cookie boolean NOT NULL DEFAULT false
      )`);
    await q.query(`
      INSERT INTO pending_sign_ins (challenge_id, surface, method, remember, set_cookie)
      SELECT id, flow->>'surface', flow->>'method', coalesce((flow->>'remember')::boolean, false),
             coalesce((flow->>'setCookie')::boolean, false)
        FROM mfa_challenges`);
    await q.query(`
      ALTER TABLE mfa_challenges
        ADD COLUMN first_amr varchar(16)[] NOT NULL DEFAULT '{}',
        ADD COLUMN first_factor_id uuid`);
    await q.query(`
      UPDATE mfa_challenges
         SET first_amr = ARRAY(SELECT jsonb_array_elements_text(flow->'amr'))::varchar(16)[],
             first_factor_id = (flow->>'firstFactorId')::uuid`);
    await q.query(`ALTER TABLE mfa_challenges DROP COLUMN flow`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mfa_challenges ADD COLUMN flow jsonb`);
    await q.query(`
      UPDATE mfa_challenges c
         SET flow = jsonb_strip_nulls(jsonb_build_object(
               'surface', coalesce(p.surface, 'portal'), 'method', coalesce(p.method, 'password'),
               'amr', to_jsonb(c.first_amr), 'remember', coalesce(p.remember, false),
               'setCookie', coalesce(p.set_cookie, false), 'firstFactorId', c.first_factor_id))
        FROM mfa_challenges c2 LEFT JOIN pending_sign_ins p ON p.challenge_id = c2.id
       WHERE c2.id = c.id`);
    await q.query(`ALTER TABLE mfa_challenges ALTER COLUMN flow SET NOT NULL`);
    await q.query(`ALTER TABLE mfa_challenges DROP COLUMN first_factor_id, DROP COLUMN first_amr`);
    await q.query(`DROP TABLE pending_sign_ins`);
  }
}
