import { Logger } from '@nestjs/common';
import { existsSync, lstatSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AppConfig, ConfigError } from '../config/config';
import { AdminBootstrapService, writeInitialPasswordFile } from './admin-bootstrap.service';
import { AdminsRepository } from './admins.repository';
import { PasswordHasher } from './password-hasher';

const tmp = () => mkdtempSync(join(tmpdir(), 'identity-admin-'));

/** A database that answers the bootstrap's statements: the admin count (before and under the lock), the lock, the insert. */
function fakeDatabase(admins: number) {
  const inserted: unknown[][] = [];
  const manager = {
    query: jest.fn(async (sql: string, params: unknown[] = []) => {
      if (sql.includes('count(*)')) return [{ n: admins }];
      if (sql.startsWith('INSERT')) {
        inserted.push(params);
        return [{ id: 'u1' }];
      }
      return [];
    }),
  };
  const dataSource = {
    query: manager.query,
    transaction: (fn: (m: typeof manager) => Promise<unknown>) => fn(manager),
  };
  return { dataSource: dataSource as unknown as DataSource, inserted };
}

function setup(opts: { env?: AppConfig['env']; password?: string; admins?: number; dataDir?: string }) {
  const dataDir = opts.dataDir ?? tmp();
  const db = fakeDatabase(opts.admins ?? 0);
  const config = {
    env: opts.env ?? 'development',
    dataDir,
    admin: { email: 'admin@example.com', password: opts.password },
  } as AppConfig;
  const hasher = { hash: jest.fn(async (p: string) => `hash(${p})`) } as unknown as PasswordHasher;
  const sut = new AdminBootstrapService(config, new AdminsRepository(db.dataSource), hasher);
  const printed: string[] = [];
  sut.announce = (text) => printed.push(text);
  return { sut, hasher, dataDir, printed, inserted: db.inserted, file: join(dataDir, 'initial-admin-password') };
}

describe('AdminBootstrapService', () => {
  const logged: string[] = [];
  beforeEach(() => {
    logged.length = 0;
    for (const level of ['log', 'warn'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => void logged.push(String(args[0])));
    }
  });
  afterEach(() => jest.restoreAllMocks());

  it('writes a generated password to DATA_DIR/initial-admin-password and prints only the path', async () => {
    const { sut, printed, inserted, file } = setup({});
    expect(await sut.ensureAdmin()).toBe('created');
    const password = readFileSync(file, 'utf8').trim();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(inserted[0]).toEqual(['admin@example.com', `hash(${password})`]);
    expect(printed.join('')).toContain(`Its generated password is in ${file}`);
    expect(printed.join('') + logged.join('\n')).not.toContain(password);
  });

  it('writes no file when ADMIN_PASSWORD is given, or when an admin exists', async () => {
    const given = setup({ password: 'Quartz-Meadow-2931' });
    expect(await given.sut.ensureAdmin()).toBe('created');
    expect(existsSync(given.file)).toBe(false);
    expect(given.printed).toEqual([]);
    const exists = setup({ admins: 1 });
    expect(await exists.sut.ensureAdmin()).toBe('exists');
    expect(existsSync(exists.file)).toBe(false);
  });

  it('does not hash a password at a start where an admin already exists', async () => {
    const exists = setup({ admins: 1, password: 'Quartz-Meadow-2931' });
    expect(await exists.sut.ensureAdmin()).toBe('exists');
    expect(exists.hasher.hash).not.toHaveBeenCalled();
    expect(exists.inserted).toEqual([]);
  });

  it('refuses to start in production with no admin and no ADMIN_PASSWORD, as a configuration error', async () => {
    const { sut, file, inserted } = setup({ env: 'production' });
    const error = await sut.ensureAdmin().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('ADMIN_PASSWORD: is required in production while no admin exists');
    expect(inserted).toEqual([]);
    expect(existsSync(file)).toBe(false);
  });

  it('starts in production without ADMIN_PASSWORD once an admin exists', async () => {
    expect(await setup({ env: 'production', admins: 1 }).sut.ensureAdmin()).toBe('exists');
  });

  it('refuses an ADMIN_PASSWORD that fails the policy, as a configuration error', async () => {
    const error = await setup({ password: 'short' })
      .sut.ensureAdmin()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('ADMIN_PASSWORD: is not acceptable');
  });

  it('replaces a file left by an earlier installation, and says so', async () => {
    const dataDir = tmp();
    writeFileSync(join(dataDir, 'initial-admin-password'), 'stale\n', { mode: 0o644 });
    const { sut, file } = setup({ dataDir });
    await sut.ensureAdmin();
    expect(readFileSync(file, 'utf8')).not.toContain('stale');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(logged.join('\n')).toContain('left by an earlier installation');
  });
});

describe('writeInitialPasswordFile', () => {
  it('creates the file (and its directory) for its owner alone, whatever the umask', async () => {
    const file = join(tmp(), 'nested', 'initial-admin-password');
    const umask = process.umask(0o000);
    try {
      expect(await writeInitialPasswordFile(file, 'Pw-1')).toBe(false);
    } finally {
      process.umask(umask);
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe('Pw-1\n');
  });

  it('never writes through a symlink planted in its place: the link itself is replaced', async () => {
    const dir = tmp();
    const target = join(dir, 'elsewhere');
    writeFileSync(target, 'untouched\n');
    const file = join(dir, 'initial-admin-password');
    symlinkSync(target, file);
    expect(await writeInitialPasswordFile(file, 'Pw-2')).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('untouched\n');
    expect(lstatSync(file).isSymbolicLink()).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('Pw-2\n');
  });
});
