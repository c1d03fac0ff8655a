import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { RedisService } from './redis.service';

type Handler = (payload: unknown) => void;

const PREFIX = 'identity:';

/**
 * Notices between instances (a session revoked, a credential withdrawn) over Redis pub/sub. Without
 * Redis it does nothing, and each instance relies on its database poll and its short cache lifetimes.
 */
@Injectable()
export class BroadcastService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Broadcast');
  private readonly handlers = new Map<string, Handler[]>();
  private subscriber: Redis | null = null;
  /** Identifies this process's own messages, which it has already applied. */
  private readonly origin = `${process.pid}-${Math.random().toString(36).slice(2)}`;

  constructor(private readonly redis: RedisService) {}

  async onModuleInit(): Promise<void> {
    this.subscriber = this.redis.duplicate();
    if (!this.subscriber) return;
    this.subscriber.on('message', (channel: string, message: string) => this.dispatch(channel, message));
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('ready', () => {
      const channels = [...this.handlers.keys()].map((c) => PREFIX + c);
      if (channels.length) this.subscriber?.subscribe(...channels).catch(() => undefined);
    });
  }

  on(channel: string, handler: Handler): void {
    const list = this.handlers.get(channel) ?? [];
    list.push(handler);
    this.handlers.set(channel, list);
    if (this.subscriber?.status === 'ready') this.subscriber.subscribe(PREFIX + channel).catch(() => undefined);
  }

  publish(channel: string, payload: unknown): void {
    const client = this.redis.client;
    if (!client || client.status !== 'ready') return;
    client.publish(PREFIX + channel, JSON.stringify({ o: this.origin, p: payload })).catch((e: Error) => {
      this.logger.warn(`publish on ${channel} failed: ${e.message}`);
    });
  }

  private dispatch(channel: string, message: string): void {
    try {
      const { o, p } = JSON.parse(message) as { o: string; p: unknown };
      if (o === this.origin) return;
      for (const h of this.handlers.get(channel.slice(PREFIX.length)) ?? []) h(p);
    } catch (e) {
      this.logger.warn(`ignored a malformed notice on ${channel}: ${(e as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.subscriber) await this.subscriber.quit().catch(() => this.subscriber?.disconnect());
  }
}
