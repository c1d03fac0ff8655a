import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { processStopping } from '../common/shutdown';
import { DataSource } from 'typeorm';
import { BroadcastService } from '../redis/broadcast.service';

/**
 * How far before the previous poll's snapshot each poll looks again: a revocation whose transaction
 * committed after that snapshot, with an earlier timestamp, is still seen.
 */
const POLL_OVERLAP_MS = 5_000;
export const REVOCATION_POLL_MS = 500;

/**
 * Knows every revoked, not yet expired login session, so that the JWT check needs no database round
 * trip. Revocations made here apply at once; those made by other instances arrive by polling the
 * database (twice a second), and by Redis pub/sub where REDIS_URL is set.
 */
@Injectable()
export class SessionRevocationService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Revocation');
  /** session id → when its tokens would have expired anyway (ms), after which it is forgotten. */
  private readonly revoked = new Map<string, number>();
  /** The database's time at the previous poll (the epoch before the first, which reads every live revocation). */
  private cursor = new Date(0);
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly broadcast: BroadcastService,
  ) {}

  async onModuleInit(): Promise<void> {
    this.broadcast.on('sessions', (p) => this.markRevoked(p as { id: string; expiresAt: number }[]));
    await this.poll();
    this.timer = setInterval(() => void this.poll(), REVOCATION_POLL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.inFlight;
  }

  isRevoked(sessionId: string): boolean {
    return this.revoked.has(sessionId);
  }

  /** Applies revocations made by this instance at once, and tells the other instances (with Redis). */
  announce(sessions: { id: string; expiresAt: Date }[]): void {
    if (sessions.length === 0) return;
    const wire = sessions.map((s) => ({ id: s.id, expiresAt: s.expiresAt.getTime() }));
    this.markRevoked(wire);
    this.broadcast.publish('sessions', wire);
  }

  /** Records revocations (made here, or announced by another instance) without waiting for a poll. */
  markRevoked(sessions: { id: string; expiresAt: Date | number }[]): void {
    for (const s of sessions)
      this.revoked.set(s.id, typeof s.expiresAt === 'number' ? s.expiresAt : s.expiresAt.getTime());
  }

  poll(): Promise<void> {
    this.inFlight ??= this.pollOnce().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async pollOnce(): Promise<void> {
    if (!this.dataSource.isInitialized) return;
    try {
      // Everything revoked more than the overlap before the previous poll's snapshot was visible to that
      // poll (a revocation commits within seconds of its timestamp), so each row is read for a few polls
      // at most, however many were revoked at once.
      const since = new Date(this.cursor.getTime() - POLL_OVERLAP_MS);
      const rows: { polled_at: Date; id: string | null; expires_at: Date | null }[] = await this.dataSource.query(
        `SELECT now() AS polled_at, s.id, s.expires_at
           FROM (SELECT 1) AS one
           LEFT JOIN login_sessions s
             ON s.revoked_at IS NOT NULL AND s.revoked_at > $1 AND s.expires_at > now()`,
        [since],
      );
      this.markRevoked(rows.flatMap((r) => (r.id && r.expires_at ? [{ id: r.id, expiresAt: r.expires_at }] : [])));
      if (rows.length) this.cursor = rows[0].polled_at;
      const now = Date.now();
      for (const [id, until] of this.revoked) if (until <= now) this.revoked.delete(id);
    } catch (e) {
      this.logger[processStopping() ? 'debug' : 'warn'](`revocation poll failed: ${(e as Error).message}`);
    }
  }

  get size(): number {
    return this.revoked.size;
  }
}
