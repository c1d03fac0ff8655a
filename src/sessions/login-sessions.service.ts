import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { LoginSession } from './entities/login-session.entity';
import { SessionRevocationService } from './session-revocation.service';

export interface OpenSessionInput {
  userId: string;
  method: string;
  ttlMs: number;
  remember?: boolean;
  /** How the user proved who they are (RFC 8176) and the resulting assurance level (1 or 2). */
  amr: string[];
  aal: 1 | 2;
  ip?: string | null;
  userAgent?: string | null;
  /** The first refresh token of the session (its hash), and how long its chain may last. */
  refresh?: { tokenHash: string; ttlMs: number };
  /** Details of the `login_success` audit event recorded with the session (its id is added). */
  audit?: Record<string, unknown>;
}

@Injectable()
export class LoginSessionsService {
  constructor(
    @InjectRepository(LoginSession) private readonly sessions: Repository<LoginSession>,
    private readonly revocation: SessionRevocationService,
  ) {}

  /**
   * Opens a login session together with its first refresh token and its `login_success` audit event, in
   * one statement (one round trip, atomic by itself: a session exists exactly when its event does).
   * Without `refresh` or `audit`, those are left out. The refresh chain ends `refresh.ttlMs` after login,
   * or with the session if that is sooner; the event's details get the session's id.
   */
  async open(input: OpenSessionInput, manager?: EntityManager): Promise<{ id: string; expiresAt: Date }> {
    const { refresh, audit } = input;
    const [row] = (await (manager ?? this.sessions.manager).query(
      `WITH s AS (
         INSERT INTO login_sessions (user_id, method, remember, expires_at, ip, user_agent, amr, aal)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5, $6, $10::varchar(16)[], $11)
         RETURNING id, expires_at
       ), r AS (
         INSERT INTO refresh_tokens (session_id, token_hash, expires_at)
         SELECT id, $7::char(64), LEAST(expires_at, now() + make_interval(secs => $8)) FROM s WHERE $7 IS NOT NULL
       ), a AS (
         INSERT INTO audit_events (event, user_id, ip, details)
         SELECT 'login_success', $1, $5, jsonb_build_object('session_id', id) || $9::jsonb FROM s WHERE $9 IS NOT NULL
       )
       SELECT id, expires_at FROM s`,
      [
        input.userId,
        input.method,
        input.remember ?? false,
        input.ttlMs / 1000,
        input.ip?.slice(0, 64) ?? null,
        input.userAgent?.slice(0, 256) ?? null,
        refresh?.tokenHash ?? null,
        (refresh?.ttlMs ?? 0) / 1000,
        audit ? JSON.stringify(audit) : null,
        input.amr,
        input.aal,
      ],
    )) as { id: string; expires_at: Date }[];
    return { id: row.id, expiresAt: row.expires_at };
  }

  async listLive(userId: string, currentSessionId?: string): Promise<LiveSession[]> {
    const rows = await this.sessions
      .createQueryBuilder('s')
      .where('s.user_id = :userId AND s.revoked_at IS NULL AND s.expires_at > now()', { userId })
      .orderBy('s.created_at', 'DESC')
      .getMany();
    return rows.map((s) => ({
      id: s.id,
      method: s.method,
      remember: s.remember,
      created_at: s.createdAt.toISOString(),
      expires_at: s.expiresAt.toISOString(),
      ip: s.ip,
      user_agent: s.userAgent,
      current: s.id === currentSessionId,
    }));
  }

  /** Revokes the given sessions (or all of a user's), in the database and at once in this process. */
  async revoke(
    where: { sessionId?: string; userId?: string; exceptSessionId?: string },
    reason: string,
  ): Promise<number> {
    const qb = this.sessions
      .createQueryBuilder()
      .update(LoginSession)
      .set({ revokedAt: () => 'now()', revokedReason: reason })
      .where('revoked_at IS NULL AND expires_at > now()');
    if (where.sessionId) qb.andWhere('id = :sid', { sid: where.sessionId });
    if (where.userId) qb.andWhere('user_id = :uid', { uid: where.userId });
    if (where.exceptSessionId) qb.andWhere('id <> :keep', { keep: where.exceptSessionId });
    const { raw } = await qb.returning('id, expires_at').execute();
    const rows = raw as { id: string; expires_at: Date }[];
    this.revocation.announce(rows.map((r) => ({ id: r.id, expiresAt: new Date(r.expires_at) })));
    return rows.length;
  }
}

export interface LiveSession {
  id: string;
  method: string;
  remember: boolean;
  created_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
  current: boolean;
}
