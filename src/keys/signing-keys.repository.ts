import { Injectable } from '@nestjs/common';
import type { JsonWebKey } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import type { JwtAlgorithm } from '../config/config';
import { ADVISORY_LOCKS } from '../database/locks';

export type AsymmetricAlgorithm = Exclude<JwtAlgorithm, 'HS256'>;

export interface KeyRow {
  kid: string;
  alg: AsymmetricAlgorithm;
  public_jwk: JsonWebKey;
  private_key_enc?: Buffer | null;
  created_at: Date;
  publish_at: Date;
  activate_at: Date;
  retire_at: Date | null;
  expire_at: Date | null;
}

/** A key to insert: its public half as JWK members, its private half sealed. */
export interface NewKey {
  kid: string;
  alg: AsymmetricAlgorithm;
  publicJwk: JsonWebKey;
  sealed: Buffer;
  createdAt: Date;
  publishAt: Date;
  activateAt: Date;
}

/** The queries of `signing_keys` and its advisory lock; transactions are opened by the service. */
@Injectable()
export class SigningKeysRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Whether the database can be asked (not before the start, nor after the shutdown). */
  get ready(): boolean {
    return this.dataSource.isInitialized;
  }

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(fn);
  }

  /** Waits for the signing keys' lock, held until the transaction ends. */
  async lock(m: EntityManager): Promise<void> {
    await m.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.signingKeys]);
  }

  /** Takes the signing keys' lock if it is free; whether it was. */
  async tryLock(m: EntityManager): Promise<boolean> {
    const [{ locked }] = (await m.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [
      ADVISORY_LOCKS.signingKeys,
    ])) as { locked: boolean }[];
    return locked;
  }

  /** The keys not yet expired, with the sealed private halves. */
  readLive(): Promise<KeyRow[]> {
    return this.dataSource.query(
      `SELECT kid, alg, public_jwk, private_key_enc, created_at, publish_at, activate_at, retire_at, expire_at
         FROM signing_keys WHERE expire_at IS NULL OR expire_at > now() ORDER BY activate_at`,
    );
  }

  /** Every row (no private halves) with the database's time, inside the caller's transaction. */
  async readRows(m: EntityManager = this.dataSource.manager): Promise<{ rows: KeyRow[]; now: number }> {
    const [{ now }] = (await m.query(`SELECT now() AS now`)) as { now: Date }[];
    const rows: KeyRow[] = await m.query(
      `SELECT kid, alg, public_jwk, created_at, publish_at, activate_at, retire_at, expire_at
         FROM signing_keys ORDER BY activate_at`,
    );
    return { rows, now: now.getTime() };
  }

  /** Wipes the private halves of keys retired longer ago than `afterSec`. */
  async wipeRetired(afterSec: number, m: EntityManager): Promise<void> {
    await m.query(
      `UPDATE signing_keys SET private_key_enc = NULL
            WHERE private_key_enc IS NOT NULL AND retire_at < now() - make_interval(secs => $1::float8)`,
      [afterSec],
    );
  }

  async retire(kid: string, retireAt: Date, expireAt: Date, m: EntityManager): Promise<void> {
    await m.query(`UPDATE signing_keys SET retire_at = $2, expire_at = $3 WHERE kid = $1`, [kid, retireAt, expireAt]);
  }

  async insert(k: NewKey, m: EntityManager): Promise<void> {
    await m.query(
      `INSERT INTO signing_keys (kid, alg, public_jwk, private_key_enc, created_at, publish_at, activate_at)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7)`,
      [k.kid, k.alg, JSON.stringify(k.publicJwk), k.sealed, k.createdAt, k.publishAt, k.activateAt],
    );
  }
}
