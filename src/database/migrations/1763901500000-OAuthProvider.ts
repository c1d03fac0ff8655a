import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The OAuth 2.1 / OpenID Connect provider (API.md 15): the clients that admins register, the consent each
 * user gave each client, the provider's own signing keys (ES256 and RS256, sealed like section 10's), and
 * one table for every artefact oidc-provider stores (codes, tokens, sessions, grants, interactions, replay
 * detection), keyed by model and id, shared by every instance.
 */
export class OAuthProvider1763901500000 implements MigrationInterface {
  name = 'OAuthProvider1763901500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE oauth_clients (
        client_id varchar(64) PRIMARY KEY,
        name varchar(200) NOT NULL,
        type varchar(16) NOT NULL CHECK (type IN ('confidential', 'public')),
        -- sha256 of the client secret (256 random bits); the secret itself is shown once.
        secret_hash char(64),
        redirect_uris jsonb NOT NULL DEFAULT '[]',
        post_logout_redirect_uris jsonb NOT NULL DEFAULT '[]',
        grant_types jsonb NOT NULL DEFAULT '[]',
        scopes jsonb NOT NULL DEFAULT '[]',
        first_party boolean NOT NULL DEFAULT false,
        dynamic boolean NOT NULL DEFAULT false,
        backchannel_logout_uri varchar(2048),
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        disabled_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE oauth_consents (
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        client_id varchar(64) NOT NULL REFERENCES oauth_clients(client_id) ON DELETE CASCADE,
        scopes jsonb NOT NULL DEFAULT '[]',
        grant_id varchar(255),
        granted_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, client_id)
      )`);
    await q.query(`
      CREATE TABLE oauth_signing_keys (
        kid varchar(64) PRIMARY KEY,
        alg varchar(16) NOT NULL CHECK (alg IN ('ES256', 'RS256')),
        public_jwk jsonb NOT NULL,
        private_key_enc bytea,
        created_at timestamptz NOT NULL DEFAULT now(),
        publish_at timestamptz NOT NULL,
        activate_at timestamptz NOT NULL,
        retire_at timestamptz,
        expire_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE oauth_models (
        model varchar(40) NOT NULL,
        id varchar(255) NOT NULL,
        payload jsonb NOT NULL,
        grant_id varchar(255),
        user_code varchar(64),
        uid varchar(64),
        account_id varchar(255),
        client_id varchar(2048),
        expires_at timestamptz,
        consumed_at timestamptz,
        PRIMARY KEY (model, id)
      )`);
    await q.query(`CREATE INDEX oauth_models_grant_id_idx ON oauth_models (grant_id) WHERE grant_id IS NOT NULL`);
    await q.query(
      `CREATE UNIQUE INDEX oauth_models_user_code_idx ON oauth_models (model, user_code) WHERE user_code IS NOT NULL`,
    );
    await q.query(`CREATE UNIQUE INDEX oauth_models_uid_idx ON oauth_models (model, uid) WHERE uid IS NOT NULL`);
    await q.query(`CREATE INDEX oauth_models_expires_at_idx ON oauth_models (expires_at)`);
    await q.query(
      `CREATE INDEX oauth_models_account_idx ON oauth_models (account_id, client_id) WHERE account_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE oauth_models`);
    await q.query(`DROP TABLE oauth_signing_keys`);
    await q.query(`DROP TABLE oauth_consents`);
    await q.query(`DROP TABLE oauth_clients`);
  }
}
