import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { APP_CONFIG, type AppConfig, ConfigError } from '../config/config';
import { writePrivateFile } from '../common/private-files';
import { AdminsRepository } from './admins.repository';
import { PasswordHasher } from './password-hasher';
import { describePasswordProblems, passwordProblems } from './password-policy';

export const INITIAL_ADMIN_PASSWORD_FILE = 'initial-admin-password';

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
 * Writes the generated password to a file that only the service's user can read. Created with O_EXCL
 * (`wx`), so that a symlink planted in its place is never followed. A file already there belongs to an
 * earlier installation whose admin is not in this database (we only get here when no admin exists), so
 * its password opens nothing: it is removed and the file created afresh. Returns whether it replaced one.
 */
export async function writeInitialPasswordFile(file: string, password: string): Promise<boolean> {
  // DATA_DIR itself stays as it is (not made private): as root, the postgres user must still walk
  // through it to the cluster in DATA_DIR/pg. The file is private by its own mode.
  await mkdir(dirname(file), { recursive: true });
  try {
    await writePrivateFile(file, `${password}\n`);
    return false;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  await unlink(file);
  await writePrivateFile(file, `${password}\n`);
  return true;
}

/**
 * A new installation must be usable at once: when no admin exists, one is created from ADMIN_EMAIL and
 * ADMIN_PASSWORD, or with a generated password. A generated password goes to
 * DATA_DIR/initial-admin-password (mode 0600) and never to stdout or the log, which terminals, files
 * and container runtimes keep: the console only says where it is (GitLab's initial root password works
 * the same way). In production nobody reads that file on a server's disk, so production without an
 * admin insists on ADMIN_PASSWORD.
 */
@Injectable()
export class AdminBootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger('AdminBootstrap');
  /** Where the console is told about a generated password's file; replaced in tests. */
  announce: (text: string) => void = (text) => process.stdout.write(text);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly admins: AdminsRepository,
    private readonly hasher: PasswordHasher,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureAdmin();
  }

  get passwordFile(): string {
    return join(this.config.dataDir, INITIAL_ADMIN_PASSWORD_FILE);
  }

  async ensureAdmin(): Promise<'exists' | 'created'> {
    const { email, password: configured } = this.config.admin;
    if (configured !== undefined) {
      const problems = passwordProblems(configured, { email });
      if (problems.length) {
        throw new ConfigError([`ADMIN_PASSWORD: is not acceptable: ${describePasswordProblems(problems)}`]);
      }
    }
    // Every start of an installed service ends here: it is not worth an argon2 hash (about 20 ms of a core).
    if (await this.admins.exist()) return 'exists';
    const password = configured ?? generatePassword();
    const hash = await this.hasher.hash(password);
    let replacedFile = false;
    const created = await this.admins.transaction(async (m) => {
      await this.admins.lock(m);
      if (await this.admins.exist(m)) return false;
      if (configured === undefined && this.config.env === 'production') {
        throw new ConfigError([
          'ADMIN_PASSWORD: is required in production while no admin exists: the first admin ' +
            `(ADMIN_EMAIL, now ${email}) is created with it at start. Once an admin exists it may be left unset`,
        ]);
      }
      if (!(await this.admins.insertFirst(email, hash, m))) {
        throw new ConfigError([
          `ADMIN_EMAIL: ${email} belongs to an existing user who is not an admin; choose another address`,
        ]);
      }
      // Inside the transaction: if the file cannot be written, no admin is created whose password
      // nobody knows, and the next start tries again.
      if (configured === undefined) replacedFile = await writeInitialPasswordFile(this.passwordFile, password);
      return true;
    });
    if (!created) return 'exists';
    if (configured !== undefined) {
      this.logger.log(`created the first admin ${email} with ADMIN_PASSWORD`);
      return 'created';
    }
    if (replacedFile) {
      this.logger.warn(`replaced ${this.passwordFile}, left by an earlier installation whose admin is gone`);
    }
    this.logger.log(`created the first admin ${email}; its generated password is in ${this.passwordFile}`);
    this.announce(
      `\n  First admin created: ${email}\n` +
        `  Its generated password is in ${this.passwordFile} (readable by this user only).\n` +
        `  Sign in, change the password, then delete the file.\n` +
        `  Set ADMIN_EMAIL and ADMIN_PASSWORD to choose them yourself.\n\n`,
    );
    return 'created';
  }
}
