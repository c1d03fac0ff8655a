import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
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
    return argon2.hash(password, this.options);
  }

  async verify(hash: string | null | undefined, password: string): Promise<PasswordCheck> {
    if (!hash) {
      await argon2.verify(this.dummyHash, password).catch(() => false);
      return { ok: false, needsRehash: false };
    }
    let ok = false;
    try {
      ok = await argon2.verify(hash, password);
    } catch {
      ok = false;
    }
    return { ok, needsRehash: ok && argon2.needsRehash(hash, this.options) };
  }
}
