import { Inject, Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { Metrics, NO_METRICS } from '../metrics/metrics';
import * as argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/config';

export interface PasswordCheck {
  ok: boolean;
  /** The hash was made with other parameters than the configured ones: store a fresh one. */
  needsRehash: boolean;
}

@Injectable()
export class PasswordHasher implements OnModuleInit {
  private readonly options: argon2.HashOptions & { raw?: false };
  /** Verified against when the account does not exist, so that both paths cost one argon2 verification. */
  private dummyHash = '';

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Optional() private readonly metrics: Metrics = NO_METRICS,
  ) {
    this.options = {
      type: argon2.argon2id,
      memoryCost: config.argon2.memoryKiB,
      timeCost: config.argon2.timeCost,
      parallelism: 1,
    };
  }

  async onModuleInit(): Promise<void> {
    this.dummyHash = await this.hash(randomBytes(18).toString('base64url'));
  }

  hash(password: string): Promise<string> {
    return this.counted(() => argon2.hash(password, this.options));
  }

  /** Each argon2 call is counted while it is on (or waiting for) libuv's thread pool (the argon2 gauges). */
  private async counted<T>(work: () => Promise<T>): Promise<T> {
    this.metrics.argon2Started();
    try {
      return await work();
    } finally {
      this.metrics.argon2Finished();
    }
  }

  async verify(hash: string | null | undefined, password: string): Promise<PasswordCheck> {
    if (!hash) {
      await this.counted(() => argon2.verify(this.dummyHash, password)).catch(() => false);
      return { ok: false, needsRehash: false };
    }
    let ok = false;
    try {
      ok = await this.counted(() => argon2.verify(hash, password));
    } catch {
      ok = false;
    }
    return { ok, needsRehash: ok && argon2.needsRehash(hash, this.options) };
  }
}
