import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/config';

/**
 * The optional shared store of several instances (rate-limit counters, revocation notices).
 * PostgreSQL stays the source of truth: when Redis is down, callers fall back to local state.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  readonly client: Redis | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.client = config.redisUrl ? this.connect(config.redisUrl) : null;
  }

  /** A second connection for subscriptions (a subscribed connection can do nothing else). */
  duplicate(): Redis | null {
    return this.client ? this.client.duplicate() : null;
  }

  private connect(url: string): Redis {
    const client = new Redis(url, {
      // Fail fast instead of queueing: a request must not wait on a Redis that is away.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    let warned = false;
    client.on('error', (e: Error) => {
      if (!warned) this.logger.warn(`redis unavailable: ${e.message}`);
      warned = true;
    });
    client.on('ready', () => {
      if (warned) this.logger.log('redis connection restored');
      warned = false;
    });
    return client;
  }

  async ping(): Promise<boolean> {
    if (!this.client) return false;
    try {
      return (await this.client.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.client) await this.client.quit().catch(() => this.client?.disconnect());
  }
}
