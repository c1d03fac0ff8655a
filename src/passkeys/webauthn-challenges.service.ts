import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { sweepHourly } from '../common/sweeper';
import { hashSecret } from '../common/secrets';
import type { ChallengePurpose } from './entities';
import { isUuid } from '../common/identifiers';

/** A ceremony's challenge lives 5 minutes (API.md 8); the options' timeout says the same to the browser. */
export const CHALLENGE_TTL_SEC = 300;

export interface ChallengeBinding {
  userId?: string | null;
  discoverable?: boolean;
  mfaChallengeId?: string;
  factorId?: string;
}

export interface TakenChallenge {
  challengeHash: string;
  userId: string | null;
  discoverable: boolean;
  factorId: string | null;
}

interface Row {
  challenge_hash: string;
  user_id: string | null;
  discoverable: boolean;
  factor_id: string | null;
}

const taken = (rows: Row[]): TakenChallenge | null =>
  rows.length
    ? {
        challengeHash: rows[0].challenge_hash,
        userId: rows[0].user_id,
        discoverable: rows[0].discoverable,
        factorId: rows[0].factor_id,
      }
    : null;

/**
 * The challenges of WebAuthn ceremonies, server-side, by hash. Each is bound to what it was issued for (a
 * registration by user X, a sign-in, the second step of one mfa_token) and is taken with one conditional
 * DELETE ... RETURNING: of any number of racing uses one gets it, and an expired one is never found.
 */
@Injectable()
export class WebAuthnChallenges implements OnModuleInit, OnApplicationShutdown {
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    this.sweeper = sweepHourly(() => this.sweep());
  }

  onApplicationShutdown(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  async create(purpose: ChallengePurpose, challenge: string, binding: ChallengeBinding): Promise<string> {
    const [{ id }] = (await this.dataSource.query(
      `INSERT INTO webauthn_challenges (purpose, challenge_hash, user_id, discoverable, mfa_challenge_id, factor_id,
                                        expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7)) RETURNING id`,
      [
        purpose,
        hashSecret(challenge),
        binding.userId ?? null,
        binding.discoverable ?? false,
        binding.mfaChallengeId ?? null,
        binding.factorId ?? null,
        CHALLENGE_TTL_SEC,
      ],
    )) as { id: string }[];
    return id;
  }

  /** The sign-in challenge of that id (the `challenge_id` of the options), used up. */
  async takeLogin(challengeId: string): Promise<TakenChallenge | null> {
    if (!isUuid(challengeId)) return null;
    const [rows] = (await this.dataSource.query(
      `DELETE FROM webauthn_challenges WHERE id = $1 AND purpose = 'login' AND expires_at > now()
       RETURNING challenge_hash, user_id, discoverable, factor_id`,
      [challengeId],
    )) as [Row[], number];
    return taken(rows);
  }

  /** A registration challenge of this user, found by the challenge the browser echoed, used up. */
  async takeRegistration(challenge: string, userId: string): Promise<TakenChallenge | null> {
    const [rows] = (await this.dataSource.query(
      `DELETE FROM webauthn_challenges
        WHERE challenge_hash = $1 AND purpose = 'register' AND user_id = $2 AND expires_at > now()
       RETURNING challenge_hash, user_id, discoverable, factor_id`,
      [hashSecret(challenge), userId],
    )) as [Row[], number];
    return taken(rows);
  }

  /** A second-step challenge of this pending sign-in, found by the echoed challenge, used up. */
  async takeSecondStep(challenge: string, mfaChallengeId: string, userId: string): Promise<TakenChallenge | null> {
    const [rows] = (await this.dataSource.query(
      `DELETE FROM webauthn_challenges
        WHERE challenge_hash = $1 AND purpose = 'mfa' AND mfa_challenge_id = $2 AND user_id = $3 AND expires_at > now()
       RETURNING challenge_hash, user_id, discoverable, factor_id`,
      [hashSecret(challenge), mfaChallengeId, userId],
    )) as [Row[], number];
    return taken(rows);
  }

  /** Expired challenges go once an hour; they can never be taken, so nothing is lost. */
  async sweep(): Promise<void> {
    await this.dataSource.query(`DELETE FROM webauthn_challenges WHERE expires_at < now()`);
  }
}
