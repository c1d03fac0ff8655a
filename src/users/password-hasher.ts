import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import * as argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { APP_CONFIG, AppConfig } from '../config/config';

export interface PasswordCheck {
  ok: boolean;
  /** The hash was made with other parameters than the configured ones: store a fresh one. */
  needsRehash: boolean;
}

/**
 * Runs at most `limit` tasks at once, the rest in arrival order. Argon2 runs on libuv's threads (four by
 * default): more hashes at once than cores only share the cores, and each holds its 19 MiB meanwhile.
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

@Injectable()
export class PasswordHasher implements OnModuleInit {
  private readonly slots = new ConcurrencyLimit(Math.max(1, availableParallelism()));
  private readonly options: argon2.HashOptions & { raw?: false };
  /** Verified against when the account does not exist, so that both paths cost one argon2 verification. */
  private dummyHash = '';

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
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
    return this.slots.run(() => argon2.hash(password, this.options));
  }

  async verify(hash: string | null | undefined, password: string): Promise<PasswordCheck> {
    if (!hash) {
      await this.slots.run(() => argon2.verify(this.dummyHash, password)).catch(() => false);
      return { ok: false, needsRehash: false };
    }
    let ok = false;
    try {
      ok = await this.slots.run(() => argon2.verify(hash, password));
    } catch {
      ok = false;
    }
    return { ok, needsRehash: ok && argon2.needsRehash(hash, this.options) };
  }
}
