import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError } from '../common/errors/domain-error';
import { hashSecret, newSecret, SECRET_PATTERN } from '../common/secrets';
import { APP_CONFIG, type AppConfig } from '../config/config';

export const SESSION_ID = new RegExp(`^sess_${SECRET_PATTERN.source.slice(1)}`);

export interface StartedSession {
  session_id: string;
  participant_id: string;
  battery_id: string;
  status: 'active';
  started_at: string;
  expires_at: string;
}

export interface Receipt {
  submission_id: string;
  session_id: string;
  received_at: string;
  trial_count: number;
}

export interface SessionPrincipal {
  sessionRowId: string;
  sessionId: string;
}

interface SessionRow {
  id: string;
  participant_id: string;
  battery_id: string;
  status: string;
  started_at: Date;
  expires_at: Date;
  submitted_at: Date | null;
}

/** SHA-256 of a submission body (the `body` relation's two jsonb values), as hex. */
const BODY_HASH_SQL = `encode(sha256(jsonb_build_object('task_summaries', body.task_summaries, 'trials', body.trials)::text::bytea), 'hex')`;

/**
 * Assessment sessions: the `sess_...` id is a 256-bit bearer secret (stored as a hash) that lets a
 * device submit one set of results. A submission commits with the session's change of status, in one
 * transaction, before the answer goes out; the unique index on submissions.session_id makes it
 * exactly-once whatever races.
 */
@Injectable()
export class AssessmentSessionsService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async start(participantId: string, batteryId: string, createdBy: string): Promise<StartedSession> {
    const sessionId = `sess_${newSecret()}`;
    const [row] = (await this.dataSource.query(
      `INSERT INTO assessment_sessions (key_hash, participant_id, battery_id, created_by, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) RETURNING started_at, expires_at`,
      [hashSecret(sessionId), participantId, batteryId, createdBy, this.config.ttlMs.session / 1000],
    )) as { started_at: Date; expires_at: Date }[];
    return {
      session_id: sessionId,
      participant_id: participantId,
      battery_id: batteryId,
      status: 'active',
      started_at: row.started_at.toISOString(),
      expires_at: row.expires_at.toISOString(),
    };
  }

  /** The X-Session-ID check: a well-formed id of a session that has not expired (submitted ones included, for retries). */
  async authenticate(presented: unknown): Promise<SessionPrincipal> {
    if (typeof presented !== 'string' || !SESSION_ID.test(presented)) {
      throw new DomainError('INVALID_TOKEN', 'Missing or invalid X-Session-ID');
    }
    const [row] = (await this.dataSource.query(
      `SELECT id, expires_at <= now() AS expired FROM assessment_sessions WHERE key_hash = $1`,
      [hashSecret(presented)],
    )) as { id: string; expired: boolean }[];
    if (!row) throw new DomainError('INVALID_TOKEN', 'Unknown session');
    if (row.expired) throw new DomainError('TOKEN_EXPIRED', 'This session has expired');
    return { sessionRowId: row.id, sessionId: presented };
  }

  async submit(
    principal: SessionPrincipal,
    body: { session_id: string; task_summaries: Record<string, unknown>; trials: unknown[] },
  ): Promise<{ created: boolean; receipt: Receipt }> {
    if (body.session_id !== principal.sessionId) {
      throw new DomainError('VALIDATION_ERROR', 'Invalid input data', [
        { name: 'session_id', message: 'session_id must match the X-Session-ID header' },
      ]);
    }
    const receipt = (r: { id: string; received_at: Date; trial_count: number }): Receipt => ({
      submission_id: r.id,
      session_id: principal.sessionId,
      received_at: r.received_at.toISOString(),
      trial_count: r.trial_count,
    });
    const summaries = JSON.stringify(body.task_summaries);
    const trials = JSON.stringify(body.trials);
    // One statement, so one round trip, atomic by itself and committed before the answer: the session is
    // claimed by a conditional UPDATE (a submission racing itself waits for the row lock, then finds the
    // session no longer active) and the submission is stored with it. The body's hash, which tells a
    // retry from a different submission, is taken by PostgreSQL over the jsonb text, which puts object
    // keys in one order and drops insignificant whitespace: equal bodies hash equally however their keys
    // were ordered.
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
      [principal.sessionRowId, summaries, trials, body.trials.length],
    )) as { id: string; received_at: Date; trial_count: number }[];
    if (row) return { created: true, receipt: receipt(row) };
    const [previous] = (await this.dataSource.query(
      `WITH body AS (SELECT $2::jsonb AS task_summaries, $3::jsonb AS trials)
       SELECT s.id, s.received_at, s.trial_count, s.body_hash = ${BODY_HASH_SQL} AS same
         FROM submissions s, body WHERE s.session_id = $1`,
      [principal.sessionRowId, summaries, trials],
    )) as { id: string; received_at: Date; trial_count: number; same: boolean }[];
    if (!previous) throw new DomainError('TOKEN_EXPIRED', 'This session has expired');
    if (!previous.same) throw new DomainError('CONFLICT', 'This session already has a different submission');
    return { created: false, receipt: receipt(previous) };
  }

  /** What researchers see of a session: its status and, once submitted, the data. */
  async get(sessionId: string): Promise<unknown> {
    if (!SESSION_ID.test(sessionId)) throw new DomainError('NOT_FOUND', 'Session not found');
    const [s] = (await this.dataSource.query(
      `SELECT id, participant_id, battery_id, status, started_at, expires_at, submitted_at
         FROM assessment_sessions WHERE key_hash = $1`,
      [hashSecret(sessionId)],
    )) as SessionRow[];
    if (!s) throw new DomainError('NOT_FOUND', 'Session not found');
    const [sub] = (await this.dataSource.query(
      `SELECT id, received_at, trial_count, task_summaries, trials FROM submissions WHERE session_id = $1`,
      [s.id],
    )) as { id: string; received_at: Date; trial_count: number; task_summaries: unknown; trials: unknown }[];
    const expired = s.status === 'active' && s.expires_at.getTime() <= Date.now();
    return {
      session_id: sessionId,
      participant_id: s.participant_id,
      battery_id: s.battery_id,
      status: expired ? 'expired' : s.status,
      started_at: s.started_at.toISOString(),
      expires_at: s.expires_at.toISOString(),
      submitted_at: s.submitted_at?.toISOString() ?? null,
      submission: sub
        ? {
            submission_id: sub.id,
            received_at: sub.received_at.toISOString(),
            trial_count: sub.trial_count,
            task_summaries: sub.task_summaries,
            trials: sub.trials,
          }
        : null,
    };
  }
}
