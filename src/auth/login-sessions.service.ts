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
  ip?: string | null;
  userAgent?: string | null;
}

@Injectable()
export class LoginSessionsService {
  constructor(
    @InjectRepository(LoginSession) private readonly sessions: Repository<LoginSession>,
    private readonly revocation: SessionRevocationService,
  ) {}

  open(input: OpenSessionInput, manager?: EntityManager): Promise<LoginSession> {
    const repo = manager ? manager.getRepository(LoginSession) : this.sessions;
    return repo.save(
      repo.create({
        userId: input.userId,
        method: input.method,
        remember: input.remember ?? false,
        expiresAt: new Date(Date.now() + input.ttlMs),
        ip: input.ip?.slice(0, 64) ?? null,
        userAgent: input.userAgent?.slice(0, 256) ?? null,
      }),
    );
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
