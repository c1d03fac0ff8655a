import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** A passkey as the assertion check needs it (only confirmed ones are ever read for a sign-in). */
export interface StoredPasskey {
  id: string;
  user_id: string;
  credential_id: string;
  public_key: Buffer;
  counter: string;
  transports: string[];
}

export interface PasskeyRow {
  id: string;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
  transports: string[];
  aaguid: string;
  backed_up: boolean;
  device_type: 'singleDevice' | 'multiDevice';
}

export interface NewPasskeyRow {
  id: string;
  userId: string;
  credentialId: string;
  publicKey: Buffer;
  counter: number;
  transports: string[];
  aaguid: string;
  deviceType: string;
  backedUp: boolean;
}

/**
 * The queries of `passkeys` (each one the data of an `mfa_factors` row of type passkey, same id). The
 * counter moves in one conditional UPDATE that also marks the factor used, so that two racing assertions
 * with the same counter cannot both pass; the rules are PasskeysService's.
 */
@Injectable()
export class PasskeysRepository {
  constructor(private readonly dataSource: DataSource) {}

  async listOf(userId: string): Promise<PasskeyRow[]> {
    return (await this.dataSource.query(
      `SELECT p.id, f.name, p.created_at, f.last_used_at, p.transports, p.aaguid, p.backed_up, p.device_type
         FROM passkeys p JOIN mfa_factors f ON f.id = p.id
        WHERE p.user_id = $1 ORDER BY p.created_at, p.id`,
      [userId],
    )) as PasskeyRow[];
  }

  async credentialsOf(userId: string | null): Promise<{ credential_id: string; transports: string[] }[]> {
    return (await this.dataSource.query(
      `SELECT credential_id, transports FROM passkeys WHERE user_id = $1 ORDER BY created_at`,
      [userId],
    )) as { credential_id: string; transports: string[] }[];
  }

  async isOwnedBy(id: string, userId: string): Promise<boolean> {
    const rows = (await this.dataSource.query(`SELECT id FROM passkeys WHERE id = $1 AND user_id = $2`, [
      id,
      userId,
    ])) as unknown[];
    return rows.length > 0;
  }

  /** A confirmed passkey factor of the user, by its factor id. */
  async confirmedFactor(
    factorId: string,
    userId: string,
  ): Promise<{ credential_id: string; transports: string[] } | undefined> {
    const [passkey] = (await this.dataSource.query(
      `SELECT p.credential_id, p.transports FROM passkeys p JOIN mfa_factors f ON f.id = p.id
            WHERE p.id = $1 AND p.user_id = $2 AND f.confirmed_at IS NOT NULL`,
      [factorId, userId],
    )) as { credential_id: string; transports: string[] }[];
    return passkey;
  }

  async byCredentialId(credentialId: string): Promise<StoredPasskey | null> {
    const [row] = (await this.dataSource.query(
      `SELECT p.id, p.user_id, p.credential_id, p.public_key, p.counter, p.transports
         FROM passkeys p JOIN mfa_factors f ON f.id = p.id
        WHERE p.credential_id = $1 AND f.confirmed_at IS NOT NULL`,
      [credentialId],
    )) as StoredPasskey[];
    return row ?? null;
  }

  /** The passkey's data, in the transaction that adds its factor (a credential registered twice: 23505). */
  async insert(m: EntityManager, p: NewPasskeyRow): Promise<void> {
    await m.query(
      `INSERT INTO passkeys (id, user_id, credential_id, public_key, counter, transports, aaguid, device_type,
                             backed_up)
       VALUES ($1, $2, $3, $4, $5, $6::varchar(16)[], $7, $8, $9)`,
      [p.id, p.userId, p.credentialId, p.publicKey, p.counter, p.transports, p.aaguid, p.deviceType, p.backedUp],
    );
  }

  /**
   * Moves the signature counter forward and marks the factor used, in one statement; false when the counter
   * did not increase (when either is nonzero): a cloned authenticator, or a racing assertion that won.
   */
  async advanceCounter(id: string, newCounter: number): Promise<boolean> {
    const [rows] = (await this.dataSource.query(
      `WITH p AS (
         UPDATE passkeys SET counter = $2
          WHERE id = $1 AND (counter < $2 OR ($2 = 0 AND counter = 0)) RETURNING id
       )
       UPDATE mfa_factors f SET last_used_at = now() FROM p WHERE f.id = p.id RETURNING f.id`,
      [id, newCounter],
    )) as [unknown[], number];
    return rows.length > 0;
  }
}
