import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError } from '../common/errors/domain-error';
import { hashSecret, newSecret, SECRET_PATTERN } from '../common/secrets';
import { sweepHourly } from '../common/sweeper';

/** An `mfa_token` lives 5 minutes, survives 4 wrong codes, and works once (API.md 6). */
export const MFA_TOKEN_TTL_SEC = 300;
export const MFA_TOKEN_MAX_FAILURES = 5;

/** What the first step of a sign-in proved: the factor data that the second step needs, and nothing else. */
export interface FirstStep {
  /** The first factor's RFC 8176 methods. */
  amr: string[];
  /** The factor that was the first step (a passkey used without user verification): not a second one too. */
  factorId?: string;
}

export interface OpenChallenge {
  id: string;
  userId: string;
  first: FirstStep;
}

const INVALID = 'This sign-in step is invalid or has expired; sign in again';

/** The pending second steps of sign-ins, by the hash of their `mfa_token`. */
@Injectable()
export class MfaChallenges implements OnModuleInit, OnApplicationShutdown {
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    this.sweeper = sweepHourly(() => this.sweep());
  }

  onApplicationShutdown(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  async create(
    userId: string,
    first: FirstStep,
    manager?: EntityManager,
  ): Promise<{ id: string; token: string; expiresIn: number }> {
    const token = newSecret();
    const [row] = (await (manager ?? this.dataSource.manager).query(
      `INSERT INTO mfa_challenges (user_id, token_hash, first_amr, first_factor_id, expires_at)
       VALUES ($1, $2, $3::varchar(16)[], $4, now() + make_interval(secs => $5)) RETURNING id`,
      [userId, hashSecret(token), first.amr, first.factorId ?? null, MFA_TOKEN_TTL_SEC],
    )) as { id: string }[];
    return { id: row.id, token, expiresIn: MFA_TOKEN_TTL_SEC };
  }

  /** The live challenge of a token: unknown, used, expired or killed by wrong codes are all INVALID_TOKEN. */
  async open(token: unknown): Promise<OpenChallenge> {
    if (typeof token !== 'string' || !SECRET_PATTERN.test(token)) throw new DomainError('INVALID_TOKEN', INVALID);
    const [row] = (await this.dataSource.query(
      `SELECT id, user_id, first_amr, first_factor_id FROM mfa_challenges
        WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() AND failures < $2`,
      [hashSecret(token), MFA_TOKEN_MAX_FAILURES],
    )) as { id: string; user_id: string; first_amr: string[]; first_factor_id: string | null }[];
    if (!row) throw new DomainError('INVALID_TOKEN', INVALID);
    const first = { amr: row.first_amr, ...(row.first_factor_id ? { factorId: row.first_factor_id } : {}) };
    return { id: row.id, userId: row.user_id, first };
  }

  /**
   * Counts a guess against the token before it is checked (API.md 12): one conditional UPDATE, so that of any
   * number of parallel guesses at most MFA_TOKEN_MAX_FAILURES are ever compared; the others find the token
   * dead (INVALID_TOKEN). The right code ends the token anyway (`finish`), so only wrong ones can add up.
   */
  async countGuess(id: string): Promise<void> {
    const [rows] = (await this.dataSource.query(
      `UPDATE mfa_challenges SET failures = failures + 1
        WHERE id = $1 AND failures < $2 AND used_at IS NULL AND expires_at > now() RETURNING id`,
      [id, MFA_TOKEN_MAX_FAILURES],
    )) as [unknown[], number];
    if (!rows.length) throw new DomainError('INVALID_TOKEN', INVALID);
  }

  /**
   * Uses the token up: one conditional UPDATE, so that of any number of racing requests with right codes
   * one signs in. Wrong codes counted meanwhile do not take the win from a right one.
   */
  async finish(id: string): Promise<void> {
    const [rows] = (await this.dataSource.query(
      `UPDATE mfa_challenges SET used_at = now() WHERE id = $1 AND used_at IS NULL AND expires_at > now() RETURNING id`,
      [id],
    )) as [unknown[], number];
    if (!rows.length) throw new DomainError('INVALID_TOKEN', INVALID);
  }

  /** Challenges that expired over a day ago go, once an hour: they are of no use, even to an audit. */
  async sweep(): Promise<void> {
    await this.dataSource.query(`DELETE FROM mfa_challenges WHERE expires_at < now() - interval '1 day'`);
  }
}
