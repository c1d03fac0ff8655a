import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error';
import { hashSecret, newSecret, SECRET_PATTERN } from '../common/secrets';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { AssessmentsRepository, type SubmissionReceiptRow } from './assessments.repository';

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

/**
 * Assessment sessions: the `sess_...` id is a 256-bit bearer secret (stored as a hash) that lets a
 * device submit one set of results. A submission commits with the session's change of status, in one
 * transaction, before the answer goes out; the unique index on submissions.session_id makes it
 * exactly-once whatever races.
 */
@Injectable()
export class AssessmentSessionsService {
  constructor(
    private readonly repo: AssessmentsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async start(participantId: string, batteryId: string, createdBy: string): Promise<StartedSession> {
    const sessionId = `sess_${newSecret()}`;
    const row = await this.repo.insertSession({
      keyHash: hashSecret(sessionId),
      participantId,
      batteryId,
      createdBy,
      ttlSec: this.config.ttlMs.session / 1000,
    });
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
    const row = await this.repo.byKeyHash(hashSecret(presented));
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
    const receipt = (r: SubmissionReceiptRow): Receipt => ({
      submission_id: r.id,
      session_id: principal.sessionId,
      received_at: r.received_at.toISOString(),
      trial_count: r.trial_count,
    });
    const summaries = JSON.stringify(body.task_summaries);
    const trials = JSON.stringify(body.trials);
    // The session is claimed and the submission stored by one statement (exactly once, whatever races);
    // a retry of the same body is told from a different submission by the body's hash.
    const row = await this.repo.claimAndSubmit(principal.sessionRowId, summaries, trials, body.trials.length);
    if (row) return { created: true, receipt: receipt(row) };
    const previous = await this.repo.previousSubmission(principal.sessionRowId, summaries, trials);
    if (!previous) throw new DomainError('TOKEN_EXPIRED', 'This session has expired');
    if (!previous.same) throw new DomainError('CONFLICT', 'This session already has a different submission');
    return { created: false, receipt: receipt(previous) };
  }

  /** What researchers see of a session: its status and, once submitted, the data. */
  async get(sessionId: string): Promise<unknown> {
    if (!SESSION_ID.test(sessionId)) throw new DomainError('NOT_FOUND', 'Session not found');
    const s = await this.repo.sessionByKeyHash(hashSecret(sessionId));
    if (!s) throw new DomainError('NOT_FOUND', 'Session not found');
    const sub = await this.repo.submissionOf(s.id);
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
