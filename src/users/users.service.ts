import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, FindOptionsWhere, ILike, QueryFailedError, Repository } from 'typeorm';
import { DomainError } from '../common/errors/domain-error';
import { Page } from '../common/dto/query';
import {
  hasInvisibleCharacters,
  hasMixedScriptLocalPart,
  invisibleCharactersMessage,
  mixedScriptMessage,
  normalizeEmail,
} from '../common/identifiers';
import { ADVISORY_LOCKS } from '../database/locks';
import { User } from './entities/user.entity';
import { PasswordHasher } from './password-hasher';
import { describePasswordProblems, passwordProblems } from './password-policy';
import { Role, SubscriptionStatus } from '../common/roles';
import { UserCache } from './user-cache';
import { isUuid } from '../common/identifiers';

/** Where the code has always found it; the one definition lives in common/identifiers. */
export { normalizeEmail };

/**
 * The account a login identifier names (API.md section 0: an email address or a username), the email
 * first. `:value` is the normalised identifier; both branches are served by a unique index.
 */
const BY_LOGIN = 'u.email = :value OR lower(u.username) = :value';

/** The user as the portal and the key:token surface show it: never the hash. */
export interface PublicUser {
  id: string;
  email: string;
  username: string | null;
  role: string;
  first_name: string | null;
  last_name: string | null;
  title: string | null;
  specialty: string | null;
  ehr_system_type: string | null;
  ehr_system_name: string | null;
  email_verified: boolean;
  is_active: boolean;
  subscription_status: string;
  subscription_ends_at: string | null;
  created_at: string;
  updated_at: string;
}

const publicViews = new WeakMap<User, PublicUser>();

/**
 * The public view of a user object from the user cache, made once per cached object: such users are
 * shown many times a second, and the view (three dates turned to text among it) would otherwise be
 * rebuilt for each request. Cached users are never changed in place (a change replaces the entry).
 */
export function cachedPublicUser(u: User): PublicUser {
  let view = publicViews.get(u);
  if (!view) {
    view = toPublicUser(u);
    publicViews.set(u, view);
  }
  return view;
}

export function toPublicUser(u: User): PublicUser {
  return {
    id: u.id,
    email: u.email,
    username: u.username,
    role: u.role,
    first_name: u.firstName,
    last_name: u.lastName,
    title: u.title,
    specialty: u.specialty,
    ehr_system_type: u.ehrSystemType,
    ehr_system_name: u.ehrSystemName,
    email_verified: u.emailVerified,
    is_active: u.isActive,
    subscription_status: u.subscriptionStatus,
    subscription_ends_at: u.subscriptionEndsAt ? u.subscriptionEndsAt.toISOString() : null,
    created_at: u.createdAt.toISOString(),
    updated_at: u.updatedAt.toISOString(),
  };
}

export interface NewUser {
  email: string;
  password?: string | null;
  role: Role;
  username?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  title?: string | null;
  specialty?: string | null;
  ehrSystemType?: string | null;
  ehrSystemName?: string | null;
  emailVerified?: boolean;
}

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly cache: UserCache,
  ) {}

  /** The public view of the account behind a credential (cached, as every authenticated request reads it). */
  async me(userId: string): Promise<PublicUser> {
    const user = await this.findByIdCached(userId);
    if (!user || !user.isActive) {
      throw new DomainError('INVALID_TOKEN', 'The account behind this credential is gone or disabled');
    }
    return cachedPublicUser(user);
  }

  findById(id: string): Promise<User | null> {
    if (!isUuid(id)) return Promise.resolve(null);
    return this.users.findOne({ where: { id } });
  }

  /** The same, served from the one-second cache: for the routes that show the caller to itself. */
  findByIdCached(id: string): Promise<User | null> {
    if (!isUuid(id)) return Promise.resolve(null);
    return this.cache.get(id, () => this.users.findOne({ where: { id } }));
  }

  async getById(id: string): Promise<User> {
    const user = await this.findById(id);
    if (!user) throw new DomainError('NOT_FOUND', 'User not found');
    return user;
  }

  /**
   * Every login identifier accepts an email address or a username (API.md section 0), normalised as
   * every address is stored. Text with invisible characters names no account (the DTOs refuse it first).
   */
  findByLogin(identifier: string): Promise<User | null> {
    const value = normalizeEmail(identifier);
    if (hasInvisibleCharacters(value)) return Promise.resolve(null);
    return this.users
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where(BY_LOGIN, { value })
      .orderBy('(u.email = :value)', 'DESC')
      .limit(1)
      .getOne();
  }

  /**
   * The id of the account a login identifier names, by the same rule as `findByLogin`: what the
   * per-account login counter is keyed on, so that an email and a username of one account share it.
   * One indexed lookup, whether the account exists or not.
   */
  async resolveLoginId(identifier: string): Promise<string | null> {
    const value = normalizeEmail(identifier);
    if (!value || value.length > 320 || hasInvisibleCharacters(value)) return null;
    const row = await this.users
      .createQueryBuilder('u')
      .select('u.id', 'id')
      .where(BY_LOGIN, { value })
      .orderBy('(u.email = :value)', 'DESC')
      .limit(1)
      .getRawOne<{ id: string }>();
    return row?.id ?? null;
  }

  async updatePasswordHash(id: string, hash: string): Promise<void> {
    await this.users.update({ id }, { passwordHash: hash });
  }

  /** Applies a change to a user's own record (email, password hash, verification). */
  async update(id: string, change: Partial<Pick<User, 'email' | 'emailVerified' | 'passwordHash'>>): Promise<void> {
    try {
      await this.users.update({ id }, change);
    } finally {
      this.cache.invalidate(id);
    }
  }

  /** Creates a user; the password (if any) must pass the policy. Duplicate email or username is a 409. */
  async create(input: NewUser, manager?: EntityManager): Promise<User> {
    const email = this.acceptableEmail(input.email);
    let passwordHash: string | null = null;
    if (input.password !== undefined && input.password !== null) {
      const problems = passwordProblems(input.password, { email, username: input.username });
      if (problems.length) {
        throw new DomainError('VALIDATION_ERROR', describePasswordProblems(problems), [
          { name: 'password', message: describePasswordProblems(problems) },
        ]);
      }
      passwordHash = await this.hasher.hash(input.password);
    }
    const repo = manager ? manager.getRepository(User) : this.users;
    try {
      const saved = await repo.save(
        repo.create({
          email,
          passwordHash,
          role: input.role,
          username: input.username?.trim() || null,
          firstName: input.firstName ?? null,
          lastName: input.lastName ?? null,
          title: input.title ?? null,
          specialty: input.specialty ?? null,
          ehrSystemType: input.ehrSystemType ?? null,
          ehrSystemName: input.ehrSystemName ?? null,
          emailVerified: input.emailVerified ?? false,
        }),
      );
      return (await repo.findOneByOrFail({ id: saved.id })) as User;
    } catch (e) {
      throw this.translateUnique(e);
    }
  }

  /**
   * The address as it is stored and compared: normalised, and refused when it holds invisible
   * characters (the DTOs refuse those first; this keeps every other caller to the same rule).
   */
  acceptableEmail(email: string): string {
    const normalized = normalizeEmail(email);
    if (hasInvisibleCharacters(normalized)) {
      throw new DomainError('VALIDATION_ERROR', 'Invalid input data', [
        { name: 'email', message: invisibleCharactersMessage('email') },
      ]);
    }
    // A local part that mixes scripts looks like another address (API.md 12): `pаt@` with a Cyrillic `а`.
    if (hasMixedScriptLocalPart(normalized)) {
      throw new DomainError('VALIDATION_ERROR', 'Invalid input data', [
        { name: 'email', message: mixedScriptMessage('email') },
      ]);
    }
    return normalized;
  }

  translateUnique(e: unknown): unknown {
    if (e instanceof QueryFailedError && (e.driverError as { code?: string })?.code === '23505') {
      const constraint = String((e.driverError as { constraint?: string }).constraint ?? '');
      if (constraint.includes('username')) return new DomainError('CONFLICT', 'That username is already taken');
      return new DomainError('EMAIL_EXISTS', 'A user with this email already exists');
    }
    return e;
  }

  /** `email` matches anywhere in the address, ignoring case; a `%`, `_` or backslash in it is a literal character. */
  async list(query: { page: number; limit: number; role?: Role; email?: string }): Promise<Page<PublicUser>> {
    const where: FindOptionsWhere<User> = {};
    if (query.role) where.role = query.role;
    if (query.email) where.email = ILike(`%${query.email.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    const [rows, total] = await this.users.findAndCount({
      where,
      order: { createdAt: 'ASC', id: 'ASC' },
      skip: (query.page - 1) * query.limit,
      take: query.limit,
    });
    return { items: rows.map(toPublicUser), total, page: query.page, limit: query.limit };
  }

  /**
   * Applies a change to one user while holding the admin lock, refusing it when it would leave no
   * active admin. Two admins demoting each other at once are serialised by the lock: one of them wins.
   */
  private async changeGuardingLastAdmin(
    id: string,
    change: Partial<Pick<User, 'role' | 'isActive'>>,
  ): Promise<{ before: User; after: User }> {
    if (!isUuid(id)) throw new DomainError('NOT_FOUND', 'User not found');
    return this.dataSource.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.admins]);
      const repo = m.getRepository(User);
      const before = await repo.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!before) throw new DomainError('NOT_FOUND', 'User not found');
      const after = { ...before, ...change } as User;
      const losesAdmin = before.role === 'admin' && before.isActive && (after.role !== 'admin' || !after.isActive);
      if (losesAdmin) {
        const [{ n }] = await m.query(
          `SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND is_active AND id <> $1`,
          [id],
        );
        if (n === 0) {
          throw new DomainError('CONFLICT', 'The last active admin cannot be demoted or disabled');
        }
      }
      await repo.update({ id }, change);
      this.cache.invalidate(id);
      return { before, after: await repo.findOneByOrFail({ id }) };
    });
  }

  changeRole(id: string, role: Role) {
    return this.changeGuardingLastAdmin(id, { role });
  }

  setActive(id: string, isActive: boolean) {
    return this.changeGuardingLastAdmin(id, { isActive });
  }

  async setSubscription(id: string, status: SubscriptionStatus, endsAt: Date | null): Promise<User> {
    const user = await this.getById(id);
    await this.users.update({ id: user.id }, { subscriptionStatus: status, subscriptionEndsAt: endsAt });
    this.cache.invalidate(user.id);
    return this.getById(id);
  }

  /** Marks an address as verified (a magic link or a verification link reached its owner). */
  async markEmailVerified(id: string): Promise<void> {
    await this.users.update({ id, emailVerified: false }, { emailVerified: true });
    this.cache.invalidate(id);
  }
}
