import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes, randomInt } from 'node:crypto';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/config';
import { ADVISORY_LOCKS } from '../database/locks';
import { DomainError } from '../common/errors/domain-error';
import { PasswordHasher } from './password-hasher';
import { describePasswordProblems, passwordProblems } from './password-policy';

/** A generated password that passes the policy: 128 bits of randomness plus one of each required class. */
export function generatePassword(): string {
  const pick = (chars: string) => chars[randomInt(chars.length)];
  return (
    randomBytes(16).toString('base64url') +
    pick('ABCDEFGHJKLMNPQRSTUVWXYZ') +
    pick('abcdefghijkmnopqrstuvwxyz') +
    pick('23456789')
  );
}

/**
 * A new installation must be usable at once: when no admin exists, one is created from ADMIN_EMAIL and
 * ADMIN_PASSWORD, or with a generated password that is printed once, to the console and never to the log.
 */
@Injectable()
export class AdminBootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger('AdminBootstrap');
  /** Where a generated password is shown; replaced in tests. */
  announce: (text: string) => void = (text) => process.stdout.write(text);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureAdmin();
  }

  async ensureAdmin(): Promise<'exists' | 'created'> {
    const { email, password: configured } = this.config.admin;
    if (configured !== undefined) {
      const problems = passwordProblems(configured, { email });
      if (problems.length) {
        throw new DomainError(
          'VALIDATION_ERROR',
          `ADMIN_PASSWORD is not acceptable: ${describePasswordProblems(problems)}`,
        );
      }
    }
    const password = configured ?? generatePassword();
    const hash = await this.hasher.hash(password);
    const created = await this.dataSource.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.admins]);
      const [{ n }] = await m.query(`SELECT count(*)::int AS n FROM users WHERE role = 'admin'`);
      if (n > 0) return false;
      const rows: unknown[] = await m.query(
        `INSERT INTO users (email, password_hash, role, email_verified, is_active, first_name, last_name)
         VALUES ($1, $2, 'admin', true, true, 'Admin', 'User')
         ON CONFLICT (email) DO NOTHING RETURNING id`,
        [email, hash],
      );
      if (rows.length === 0) {
        throw new DomainError(
          'CONFLICT',
          `ADMIN_EMAIL ${email} belongs to an existing user who is not an admin; choose another address`,
        );
      }
      return true;
    });
    if (!created) return 'exists';
    this.logger.log(`created the first admin ${email}`);
    if (configured === undefined) {
      this.announce(
        `\n  First admin created: ${email}\n  Generated password (shown once, store it now): ${password}\n` +
          `  Set ADMIN_EMAIL and ADMIN_PASSWORD to choose them yourself.\n\n`,
      );
    }
    return 'created';
  }
}
