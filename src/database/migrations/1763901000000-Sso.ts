import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Institutional single sign-on (API.md 7): the providers that admins register, the sign-in attempts in
 * flight (state, nonce, PKCE verifier, SAML request id: server-side, bound to one browser, single use), the
 * one-time codes that bring the browser back, the (provider, subject) links to users, and the SAML
 * assertions already accepted (a replay cache that every instance shares).
 */
export class Sso1763901000000 implements MigrationInterface {
  name = 'Sso1763901000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sso_providers (
        id varchar(64) PRIMARY KEY,
        type varchar(8) NOT NULL CHECK (type IN ('oidc', 'saml')),
        kind varchar(16) CHECK (kind IN ('entra', 'google')),
        name varchar(200) NOT NULL,
        domains varchar(253)[] NOT NULL,
        default_role varchar(16) NOT NULL,
        issuer text,
        client_id text,
        -- AES-256-GCM under a key derived from JWT_SECRET, bound to the provider id.
        client_secret_enc bytea,
        scopes varchar(64)[],
        allowed_tenants varchar(64)[],
        entry_point text,
        idp_issuer text,
        idp_certificate text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE sso_flows (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        provider_id varchar(64) NOT NULL REFERENCES sso_providers(id) ON DELETE CASCADE,
        -- sha256 of the state (the OIDC state or the SAML RelayState) and of the browser's binding cookie.
        state_hash char(64) NOT NULL UNIQUE,
        browser_hash char(64) NOT NULL,
        nonce varchar(128),
        code_verifier varchar(128),
        saml_request_id varchar(128),
        redirect_uri text NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await q.query(`CREATE INDEX sso_flows_expires_at_idx ON sso_flows (expires_at)`);
    await q.query(`
      CREATE TABLE sso_codes (
        code_hash char(64) PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        provider_id varchar(64) NOT NULL REFERENCES sso_providers(id) ON DELETE CASCADE,
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await q.query(`CREATE INDEX sso_codes_expires_at_idx ON sso_codes (expires_at)`);
    await q.query(`
      CREATE TABLE sso_links (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        provider_id varchar(64) NOT NULL REFERENCES sso_providers(id) ON DELETE CASCADE,
        subject varchar(255) NOT NULL,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_login_at timestamptz,
        CONSTRAINT sso_links_provider_subject_key UNIQUE (provider_id, subject)
      )`);
    await q.query(`CREATE INDEX sso_links_user_id_idx ON sso_links (user_id)`);
    await q.query(`
      CREATE TABLE sso_saml_replay (
        -- provider id and assertion ID: the primary key is what refuses the second use.
        key varchar(300) PRIMARY KEY,
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX sso_saml_replay_expires_at_idx ON sso_saml_replay (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sso_saml_replay`);
    await q.query(`DROP TABLE sso_links`);
    await q.query(`DROP TABLE sso_codes`);
    await q.query(`DROP TABLE sso_flows`);
    await q.query(`DROP TABLE sso_providers`);
  }
}
