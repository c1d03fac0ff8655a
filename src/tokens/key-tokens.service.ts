import { Injectable, Optional } from '@nestjs/common';
import { KEY_TOKEN_SIGN_IN_REQUIRED } from '../common/errors/dialects';
import { Metrics, NO_METRICS } from '../metrics/metrics';
import { timingSafeEqual } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AccessRevoker } from '../sessions/access-revoker.service';
import { AccountChangesService } from '../accounts/account-changes.service';
import { AuthUser } from '../access/auth-user';
import { PasswordCheck } from '../auth/password-check.service';
import { SensitiveActions } from '../access/sensitive-actions.service';
import { CredentialCache } from '../common/credential-cache';
import { DomainError } from '../common/errors/domain-error';
import { hashSecret, newSecret } from '../common/secrets';
import { PasswordHasher } from '../users/password-hasher';
import { describePasswordProblems, passwordProblems } from '../users/password-policy';
import { Role } from '../common/roles';
import { PublicUser, toPublicUser, UsersService } from '../users/users.service';
import { ClientsService } from './clients.service';
import { ClientInfo } from '../access/client-info';

/** Self-sign-up never chooses its role (API.md section 0): key:token accounts start with the least. */
export const DEFAULT_SIGNUP_ROLE: Role = 'viewer';
const MAX_KEY = 64;
const MAX_TOKEN = 128;

export interface KeyTokenPair {
  key: string;
  token: string;
  refresh: string;
  expires: string;
}

interface CachedPair {
  pairId: string;
  userId: string;
  clientId: string;
  role: Role;
  tokenHash: Buffer;
}

/**
 * Key:token credentials. The key is a public identifier (no colon, RFC 7617); the token and the refresh
 * token are 256-bit secrets kept as hashes. A refresh replaces all three at once; a refresh token that
 * comes back after use revokes its whole family. Verified pairs are cached (bounded, at most a second,
 * never past their expiry), so the Basic check costs no database round trip in the steady state.
 */
/** A key:token login cannot carry a second step (API.md 6): the surface's own 400 for a right password. */
const MFA_REFUSED = new DomainError('BAD_REQUEST', 'Two-factor authentication is required for this account');

@Injectable()
export class KeyTokensService {
  private readonly cache = new CredentialCache<CachedPair>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly clients: ClientsService,
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly passwords: PasswordCheck,
    private readonly revoker: AccessRevoker,
    private readonly audit: AuditService,
    private readonly changes: AccountChangesService,
    private readonly sensitive: SensitiveActions,
    @Optional() private readonly metrics: Metrics = NO_METRICS,
  ) {
    revoker.onUserChanged((userId) => this.cache.deleteUser(userId));
    revoker.onCredentialRevoked((key) => this.cache.delete(key));
  }

  private async issue(
    m: EntityManager,
    userId: string,
    client: { id: string; ttlMs: number },
    familyId?: string,
  ): Promise<KeyTokenPair> {
    const key = `kt_${newSecret(18)}`;
    const token = newSecret();
    const refresh = newSecret();
    const expires = new Date(Date.now() + client.ttlMs);
    await m.query(
      `INSERT INTO key_tokens (user_id, client_id, family_id, key, token_hash, refresh_hash, expires_at)
       VALUES ($1, $2, COALESCE($3::uuid, gen_random_uuid()), $4, $5, $6, $7)`,
      [userId, client.id, familyId ?? null, key, hashSecret(token), hashSecret(refresh), expires],
    );
    return { key, token, refresh, expires: expires.toISOString() };
  }

  async signUp(
    body: { client: unknown; email: string; password: string },
    info: ClientInfo,
  ): Promise<{ role: Role } & KeyTokenPair> {
    const client = await this.clients.activeClient(body.client);
    const pair = await this.dataSource.transaction(async (m) => {
      const user = await this.users
        .create({ email: body.email, password: body.password, role: DEFAULT_SIGNUP_ROLE }, m)
        .catch((e: unknown) => {
          if (e instanceof DomainError && e.code === 'EMAIL_EXISTS')
            throw new DomainError('EMAIL_EXISTS', 'That email is already in use');
          throw e;
        });
      return { userId: user.id, ...(await this.issue(m, user.id, client)) };
    });
    await this.audit.record('user_registered', {
      userId: pair.userId,
      ip: info.ip,
      details: { role: DEFAULT_SIGNUP_ROLE, client: client.id },
    });
    const { userId: _id, ...rest } = pair;
    return { role: DEFAULT_SIGNUP_ROLE, ...rest };
  }

  async logIn(
    body: { client: unknown; email: string; password: string },
    info: ClientInfo,
  ): Promise<{ role: Role } & KeyTokenPair> {
    const client = await this.clients.activeClient(body.client);
    const user = await this.passwords
      .verifyAlone(body.email, body.password, info, undefined, MFA_REFUSED)
      .catch((e: unknown) => {
        if (e instanceof DomainError && e.code === 'INVALID_CREDENTIALS')
          throw new DomainError('INVALID_LOGIN', 'Email or password incorrect');
        throw e;
      });
    const pair = await this.dataSource.transaction((m) => this.issue(m, user.id, client));
    this.metrics.signIn('password', 'success');
    await this.audit.record('login_success', {
      userId: user.id,
      ip: info.ip,
      details: { surface: 'key-token', client: client.id },
    });
    return { role: user.role, ...pair };
  }

  /** The answer from the cache of verified pairs alone, or undefined when the pair must be looked up. */
  cachedUser(key: string, token: string): AuthUser | undefined {
    if (key.length > MAX_KEY || token.length > MAX_TOKEN || !key.startsWith('kt_')) {
      throw new DomainError('INVALID_TOKEN', 'Key or token is invalid');
    }
    const entry = this.cache.get(key);
    return entry && this.userOf(entry, token);
  }

  async authenticate(key: string, token: string): Promise<AuthUser> {
    const hit = this.cachedUser(key, token);
    if (hit) return hit;
    let entry = this.cache.get(key);
    if (!entry) {
      const [row] = (await this.dataSource.query(
        `SELECT kt.id, kt.user_id, kt.client_id, kt.token_hash, kt.expires_at, kt.expires_at <= now() AS expired, u.role
           FROM key_tokens kt JOIN users u ON u.id = kt.user_id JOIN clients c ON c.id = kt.client_id
          WHERE kt.key = $1 AND kt.revoked_at IS NULL AND u.is_active AND c.active`,
        [key],
      )) as {
        id: string;
        user_id: string;
        client_id: string;
        token_hash: string;
        expires_at: Date;
        expired: boolean;
        role: Role;
      }[];
      if (!row) throw new DomainError('INVALID_TOKEN', 'Key or token is invalid');
      if (row.expired) throw new DomainError('TOKEN_EXPIRED', 'Token has expired; refresh it or log in again');
      entry = {
        pairId: row.id,
        userId: row.user_id,
        clientId: row.client_id,
        role: row.role,
        tokenHash: Buffer.from(row.token_hash, 'hex'),
      };
      this.cache.set(key, entry, row.expires_at.getTime());
    }
    return this.userOf(entry, token);
  }

  private userOf(entry: CachedPair, token: string): AuthUser {
    const presented = Buffer.from(hashSecret(token), 'hex');
    if (!timingSafeEqual(presented, entry.tokenHash)) throw new DomainError('INVALID_TOKEN', 'Key or token is invalid');
    return {
      id: entry.userId,
      role: entry.role,
      scheme: 'basic',
      kind: 'delegated',
      aal: 'aal1',
      credentialId: entry.pairId,
      clientId: entry.clientId,
    };
  }

  async refresh(body: { client: unknown; key: unknown; refresh: unknown }, info: ClientInfo): Promise<KeyTokenPair> {
    const client = await this.clients.activeClient(body.client);
    const invalid = () => new DomainError('INVALID_REFRESH_TOKEN', 'Invalid refresh token');
    if (
      typeof body.key !== 'string' ||
      typeof body.refresh !== 'string' ||
      body.refresh.length > MAX_TOKEN ||
      body.key.length > MAX_KEY
    ) {
      throw invalid();
    }
    const refreshHash = hashSecret(body.refresh);
    const outcome = await this.dataSource.transaction(async (m) => {
      const [won] = (await m.query(
        `UPDATE key_tokens SET rotated_at = now(), revoked_at = now()
          WHERE key = $1 AND client_id = $2 AND refresh_hash = $3
            AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > now()
          RETURNING id, user_id, family_id`,
        [body.key, client.id, refreshHash],
      )) as [{ id: string; user_id: string; family_id: string }[], number];
      if (won.length) {
        const active: unknown[] = await m.query(`SELECT 1 FROM users WHERE id = $1 AND is_active`, [won[0].user_id]);
        if (!active.length) return { kind: 'invalid' as const };
        return {
          kind: 'rotated' as const,
          pair: await this.issue(m, won[0].user_id, client, won[0].family_id),
          userId: won[0].user_id,
        };
      }
      const [seen] = (await m.query(
        `SELECT family_id, user_id, rotated_at IS NOT NULL AS used FROM key_tokens WHERE refresh_hash = $1`,
        [refreshHash],
      )) as { family_id: string; user_id: string; used: boolean }[];
      return seen?.used
        ? { kind: 'replayed' as const, familyId: seen.family_id, userId: seen.user_id }
        : { kind: 'invalid' as const };
    });
    this.metrics.refresh(
      'key_token',
      outcome.kind === 'rotated' ? 'success' : outcome.kind === 'replayed' ? 'reused' : 'invalid',
    );
    if (outcome.kind === 'rotated') {
      this.revoker.credentialRevoked(body.key);
      return outcome.pair;
    }
    if (outcome.kind === 'replayed') {
      // A used refresh token came back: someone kept a copy. Every pair descended from the same login ends.
      const [rows] = (await this.dataSource.query(
        `UPDATE key_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL RETURNING key`,
        [outcome.familyId],
      )) as [{ key: string }[], number];
      for (const r of rows) this.revoker.credentialRevoked(r.key);
      await this.audit.record('refresh_reuse', {
        userId: outcome.userId,
        ip: info.ip,
        details: { surface: 'key-token', revoked: rows.length },
      });
    }
    throw invalid();
  }

  /** Revokes the pair that made the request; it is refused at once here and, through Redis, elsewhere. */
  async logOut(caller: AuthUser, clientId: unknown): Promise<void> {
    if (caller.scheme !== 'basic' || !caller.credentialId) {
      throw new DomainError('UNAUTHENTICATED', 'You must be logged in to access this area');
    }
    if (clientId !== caller.clientId) throw new DomainError('INVALID_CLIENT', 'Invalid client ID');
    const [rows] = (await this.dataSource.query(
      `UPDATE key_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING key`,
      [caller.credentialId],
    )) as [{ key: string }[], number];
    for (const r of rows) this.revoker.credentialRevoked(r.key);
  }

  /**
   * The seed's profile change, as API.md 12 allows it: a new password needs the current one; a new email
   * waits for the link mailed to it (the old address is told at once, by the security notice). A delegated
   * credential of a user with MFA on changes neither (403): only a sign-in with the second factor may.
   */
  async updateMe(
    caller: AuthUser,
    change: { email?: string; password?: string; current_password?: string },
    client: ClientInfo,
  ): Promise<PublicUser & { pending_email: string | null }> {
    const user = await this.users.getById(caller.id);
    if (change.email == null && change.password == null) {
      return { ...toPublicUser(user), pending_email: await this.changes.pendingEmail(user.id) };
    }
    if (user.mfaEnabled && caller.kind !== 'sign-in') {
      await this.audit.record('sensitive_action_refused', {
        userId: user.id,
        ip: client.ip,
        details: { action: 'PATCH /users', reason: 'mfa_on_delegated_credential', scheme: caller.scheme },
      });
      throw new DomainError('SIGN_IN_REQUIRED', KEY_TOKEN_SIGN_IN_REQUIRED);
    }
    if (change.password != null) {
      if (typeof change.current_password !== 'string' || change.current_password.length === 0) {
        throw new DomainError('BAD_REQUEST', 'current_password is required');
      }
      if (!(await this.sensitive.proveCurrentPassword(user.id, change.current_password))) {
        throw new DomainError('INVALID_CREDENTIALS', 'current_password is incorrect');
      }
      const problems = passwordProblems(change.password, { email: user.email, username: user.username });
      if (problems.length) {
        throw new DomainError('VALIDATION_ERROR', describePasswordProblems(problems), [
          { name: 'password', message: describePasswordProblems(problems) },
        ]);
      }
    }
    // The address is checked (free, well formed) before anything changes, so a refused request changes nothing.
    const email = change.email != null ? this.users.acceptableEmail(change.email) : null;
    if (email !== null && email !== user.email) {
      const [taken] = (await this.dataSource.query(`SELECT 1 FROM users WHERE email = $1`, [email])) as unknown[];
      if (taken) throw new DomainError('EMAIL_EXISTS', 'That email is already taken');
    }
    if (change.password != null) {
      await this.users.update(user.id, { passwordHash: await this.hasher.hash(change.password) });
      await this.audit.record('password_changed', {
        userId: user.id,
        ip: client.ip,
        details: { surface: 'key-token' },
      });
    }
    if (email !== null && email !== user.email) await this.changes.requestEmailChange(user.id, email, client);
    return {
      ...toPublicUser(await this.users.getById(user.id)),
      pending_email: await this.changes.pendingEmail(user.id),
    };
  }
}
