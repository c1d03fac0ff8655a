import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** An attempt to record: what the browser carries only as hashes, the nonce and the verifier sealed. */
export interface NewFlow {
  providerId: string;
  stateHash: string;
  browserHash: string;
  nonceEnc: Buffer | null;
  codeVerifierEnc: Buffer | null;
  samlRequestId: string | null;
  redirectUri: string;
  ttlSec: number;
}

export interface FlowRow {
  nonce_enc: Buffer | null;
  code_verifier_enc: Buffer | null;
  saml_request_id: string | null;
  redirect_uri: string;
}

/**
 * The queries of `sso_flows`, `sso_codes` and `sso_saml_replay`. Attempts and codes are taken by one
 * conditional UPDATE ... RETURNING each, replay keys by one INSERT ... ON CONFLICT DO NOTHING.
 */
@Injectable()
export class SsoFlowsRepository {
  constructor(private readonly db: DataSource) {}

  /** Deletes expired attempts and codes an hour after they expired, and expired replay keys. */
  async sweep(): Promise<void> {
    await this.db.query(`DELETE FROM sso_flows WHERE expires_at < now() - interval '1 hour'`);
    await this.db.query(`DELETE FROM sso_codes WHERE expires_at < now() - interval '1 hour'`);
    await this.db.query(`DELETE FROM sso_saml_replay WHERE expires_at < now()`);
  }

  async insertFlow(f: NewFlow): Promise<void> {
    await this.db.query(
      `INSERT INTO sso_flows (provider_id, state_hash, browser_hash, nonce_enc, code_verifier_enc, saml_request_id,
                              redirect_uri, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))`,
      [
        f.providerId,
        f.stateHash,
        f.browserHash,
        f.nonceEnc,
        f.codeVerifierEnc,
        f.samlRequestId,
        f.redirectUri,
        f.ttlSec,
      ],
    );
  }

  /** Uses a live attempt of this provider and browser up; undefined when there is none. */
  async takeFlow(stateHash: string, providerId: string, browserHash: string): Promise<FlowRow | undefined> {
    const [rows] = (await this.db.query(
      `UPDATE sso_flows SET used_at = now()
        WHERE state_hash = $1 AND provider_id = $2 AND browser_hash = $3 AND used_at IS NULL AND expires_at > now()
        RETURNING nonce_enc, code_verifier_enc, saml_request_id, redirect_uri`,
      [stateHash, providerId, browserHash],
    )) as [FlowRow[]];
    return rows[0];
  }

  async insertCode(codeHash: string, userId: string, providerId: string, browserHash: string, ttlSec: number) {
    await this.db.query(
      `INSERT INTO sso_codes (code_hash, user_id, provider_id, browser_hash, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
      [codeHash, userId, providerId, browserHash, ttlSec],
    );
  }

  /** Spends a live code of this browser; undefined when there is none. */
  async takeCode(codeHash: string, browserHash: string): Promise<{ user_id: string; provider_id: string } | undefined> {
    const [rows] = (await this.db.query(
      `UPDATE sso_codes SET used_at = now()
        WHERE code_hash = $1 AND browser_hash = $2 AND used_at IS NULL AND expires_at > now()
        RETURNING user_id, provider_id`,
      [codeHash, browserHash],
    )) as [{ user_id: string; provider_id: string }[]];
    return rows[0];
  }

  /** Records a replay key; whether it was new. */
  async insertReplayKey(key: string, expiresAt: Date): Promise<boolean> {
    const rows = (await this.db.query(
      `INSERT INTO sso_saml_replay (key, expires_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key`,
      [key, expiresAt],
    )) as { key: string }[];
    return rows.length === 1;
  }
}
