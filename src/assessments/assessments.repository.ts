import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface SessionRow {
  id: string;
  participant_id: string;
  battery_id: string;
  status: string;
  started_at: Date;
  expires_at: Date;
  submitted_at: Date | null;
}

export interface SubmissionReceiptRow {
  id: string;
  received_at: Date;
  trial_count: number;
}

export interface SubmissionRow extends SubmissionReceiptRow {
  task_summaries: unknown;
  trials: unknown;
}

/** SHA-256 of a submission body (the `body` relation's two jsonb values), as hex. */
const BODY_HASH_SQL = `encode(sha256(jsonb_build_object('task_summaries', body.task_summaries, 'trials', body.trials)::text::bytea), 'hex')`;

/** The queries of `assessment_sessions` and `submissions`. */
@Injectable()
export class AssessmentsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insertSession(s: {
    keyHash: string;
    participantId: string;
    batteryId: string;
    createdBy: string;
    ttlSec: number;
  }): Promise<{ started_at: Date; expires_at: Date }> {
    const [row] = (await this.dataSource.query(
      `INSERT INTO assessment_sessions (key_hash, participant_id, battery_id, created_by, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) RETURNING started_at, expires_at`,
      [s.keyHash, s.participantId, s.batteryId, s.createdBy, s.ttlSec],
    )) as { started_at: Date; expires_at: Date }[];
    return row;
  }

  /** The session of this key hash and whether it has expired. */
  async byKeyHash(keyHash: string): Promise<{ id: string; expired: boolean } | undefined> {
    const [row] = (await this.dataSource.query(
      `SELECT id, expires_at <= now() AS expired FROM assessment_sessions WHERE key_hash = $1`,
      [keyHash],
    )) as { id: string; expired: boolean }[];
    return row;
  }

  /**
   * One statement, so one round trip, atomic by itself and committed before the answer: the session is
   * claimed by a conditional UPDATE (a submission racing itself waits for the row lock, then finds the
   * session no longer active) and the submission is stored with it. The body's hash, which tells a
   * retry from a different submission, is taken by PostgreSQL over the jsonb text, which puts object
   * keys in one order and drops insignificant whitespace: equal bodies hash equally however their keys
   * were ordered. Undefined when the session was not active.
   */
  async claimAndSubmit(
    sessionRowId: string,
    summaries: string,
    trials: string,
    trialCount: number,
  ): Promise<SubmissionReceiptRow | undefined> {
    const [row] = (await this.dataSource.query(
      `WITH body AS (
         SELECT $2::jsonb AS task_summaries, $3::jsonb AS trials
       ), claimed AS (
         UPDATE assessment_sessions SET status = 'submitted', submitted_at = now()
          WHERE id = $1 AND status = 'active' AND expires_at > now() RETURNING id
       )
       INSERT INTO submissions (session_id, task_summaries, trials, trial_count, body_hash)
       SELECT claimed.id, body.task_summaries, body.trials, $4,
              ${BODY_HASH_SQL}
         FROM claimed, body
       RETURNING id, received_at, trial_count`,
      [sessionRowId, summaries, trials, trialCount],
    )) as SubmissionReceiptRow[];
    return row;
  }

  /** The session's stored submission, and whether this body is the same as its. */
  async previousSubmission(
    sessionRowId: string,
    summaries: string,
    trials: string,
  ): Promise<(SubmissionReceiptRow & { same: boolean }) | undefined> {
    const [previous] = (await this.dataSource.query(
      `WITH body AS (SELECT $2::jsonb AS task_summaries, $3::jsonb AS trials)
       SELECT s.id, s.received_at, s.trial_count, s.body_hash = ${BODY_HASH_SQL} AS same
         FROM submissions s, body WHERE s.session_id = $1`,
      [sessionRowId, summaries, trials],
    )) as (SubmissionReceiptRow & { same: boolean })[];
    return previous;
  }

  async sessionByKeyHash(keyHash: string): Promise<SessionRow | undefined> {
    const [s] = (await this.dataSource.query(
      `SELECT id, participant_id, battery_id, status, started_at, expires_at, submitted_at
         FROM assessment_sessions WHERE key_hash = $1`,
      [keyHash],
    )) as SessionRow[];
    return s;
  }

  async submissionOf(sessionRowId: string): Promise<SubmissionRow | undefined> {
    const [sub] = (await this.dataSource.query(
      `SELECT id, received_at, trial_count, task_summaries, trials FROM submissions WHERE session_id = $1`,
      [sessionRowId],
    )) as SubmissionRow[];
    return sub;
  }
}
