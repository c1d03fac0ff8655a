import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { markProcessStopping } from '../common/shutdown';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { RedisService } from '../redis/redis.service';

/** Every check gets this long; the whole answer comes well within the 2 seconds of API.md 13. */
const READINESS_TIMEOUT_MS = 1500;

export type PartState = { status: 'up' } | { status: 'down'; message: string };

export interface Readiness {
  status: 'ready' | 'not_ready' | 'stopping';
  /** The parts that are down (`service` while it stops). */
  down: string[];
  checks: Record<string, PartState>;
}

class TimedOut extends Error {}

function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimedOut(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

/**
 * Readiness for orchestrators and load balancers (API.md 13): is the database answering now (and Redis,
 * when configured)? It asks over a connection of its own rather than the pool: a database that hangs
 * (a paused server, a network that drops packets) would keep a pool connection busy for as long as it
 * hangs, and probes every few seconds would drain the pool that requests need. A probe connection that
 * did not answer in time is destroyed, and the next probe opens a new one; probes that arrive while one
 * is under way share its answer, so a hung database costs one connection at most.
 */
@Injectable()
export class ReadinessService implements BeforeApplicationShutdown {
  private stopping = false;
  private probe?: Client;
  private pending?: Promise<PartState>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly redis: RedisService,
  ) {}

  /** From now on readiness answers 503 (`stopping`): called first on SIGTERM, before the listener closes. */
  markStopping(): void {
    this.stopping = true;
    markProcessStopping();
    this.dropProbe();
  }

  async check(): Promise<Readiness> {
    const stopping: Readiness = {
      status: 'stopping',
      down: ['service'],
      checks: { service: { status: 'down', message: 'stopping' } },
    };
    if (this.stopping) return stopping;
    const parts: [string, Promise<PartState>][] = [['database', this.database()]];
    if (this.redis.client) parts.push(['redis', this.redisState()]);
    const checks: Record<string, PartState> = {};
    for (const [name, state] of parts) checks[name] = await state;
    // A stop that began meanwhile closed the probe under this check: the answer is the stop.
    if (this.stopping) return stopping;
    const down = Object.keys(checks).filter((name) => checks[name].status === 'down');
    return { status: down.length ? 'not_ready' : 'ready', down, checks };
  }

  private database(): Promise<PartState> {
    this.pending ??= this.askDatabase().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async askDatabase(): Promise<PartState> {
    try {
      await within(
        READINESS_TIMEOUT_MS,
        (async () => {
          if (!this.probe) {
            const client = this.newProbe();
            this.probe = client;
            await client.connect();
          }
          await this.probe.query('SELECT 1');
        })(),
      );
      return { status: 'up' };
    } catch (e) {
      this.dropProbe();
      return { status: 'down', message: e instanceof TimedOut ? e.message : 'unreachable' };
    }
  }

  private newProbe(): Client {
    const options = this.dataSource.options as { url?: string; ssl?: unknown };
    const client = new Client({
      connectionString: options.url,
      ...(options.ssl ? { ssl: options.ssl as never } : {}),
      connectionTimeoutMillis: READINESS_TIMEOUT_MS,
      application_name: 'identity-readiness',
    });
    client.on('error', () => this.dropProbe()); // a broken connection is replaced at the next probe
    return client;
  }

  private dropProbe(): void {
    const client = this.probe;
    this.probe = undefined;
    if (!client) return;
    // end() would wait for the server's answer, which a hung server never gives: the socket goes at once.
    const socket = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
    socket?.destroy();
    void client.end().catch(() => undefined);
  }

  private async redisState(): Promise<PartState> {
    try {
      const ok = await within(READINESS_TIMEOUT_MS, this.redis.ping());
      return ok ? { status: 'up' } : { status: 'down', message: 'unreachable' };
    } catch (e) {
      return { status: 'down', message: (e as Error).message };
    }
  }

  /** Closes the probe connection before the pool and the embedded PostgreSQL stop. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    const client = this.probe;
    this.probe = undefined;
    await client?.end().catch(() => undefined);
  }
}
