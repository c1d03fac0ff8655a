import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BroadcastService } from '../redis/broadcast.service';
import { UserCache } from '../users/user-cache';
import { LoginSessionsService } from './login-sessions.service';

type UserListener = (userId: string) => void;
type CredentialListener = (hash: string) => void;

/**
 * The one place that withdraws access: login sessions in the database, and every cache of verified
 * credentials in this process and (through Redis) in the others. Each credential cache registers here.
 */
@Injectable()
export class AccessRevoker {
  private readonly userListeners: UserListener[] = [];
  private readonly credentialListeners: CredentialListener[] = [];

  constructor(
    private readonly sessions: LoginSessionsService,
    private readonly broadcast: BroadcastService,
    private readonly dataSource: DataSource,
    private readonly users: UserCache,
  ) {
    broadcast.on('user-changed', (p) => this.notifyUser((p as { userId: string }).userId));
    broadcast.on('credential-revoked', (p) => this.notifyCredential((p as { hash: string }).hash));
  }

  onUserChanged(listener: UserListener): void {
    this.userListeners.push(listener);
  }

  onCredentialRevoked(listener: CredentialListener): void {
    this.credentialListeners.push(listener);
  }

  /**
   * A user's role or status changed: cached credentials must be looked up again, and unless told
   * otherwise every login session of the user ends (tokens carry the role they were issued with).
   */
  async userChanged(userId: string, reason: string, opts: { keepSessions?: boolean; exceptSessionId?: string } = {}) {
    if (!opts.keepSessions) await this.sessions.revoke({ userId, exceptSessionId: opts.exceptSessionId }, reason);
    this.notifyUser(userId);
    this.broadcast.publish('user-changed', { userId });
  }

  /**
   * Ends every credential of a user but the one making the request (a password change with
   * `reset_tokens`): login sessions, key:token pairs, IAM tokens and API keys.
   */
  async resetCredentials(
    userId: string,
    keep: { sessionId?: string; pairId?: string; iamTokenId?: string },
  ): Promise<void> {
    await this.endCredentials(userId, 'password_change', { keep, keys: true });
  }

  /**
   * Ends credentials of a user (API.md 12), in the database and in every cache of verified credentials:
   * every login session (and with it its refresh tokens), key:token pair and temporary IAM token; with
   * `keys`, API keys and permanent IAM tokens too. `keep` names the credentials of the request that stay.
   */
  async endCredentials(
    userId: string,
    reason: string,
    opts: { keep?: { sessionId?: string; pairId?: string; iamTokenId?: string }; keys?: boolean },
  ): Promise<{ sessions: number; pairs: number; iamTokens: number; apiKeys: number }> {
    const keep = opts.keep ?? {};
    const sessions = await this.sessions.revoke({ userId, exceptSessionId: keep.sessionId }, reason);
    const [pairs] = (await this.dataSource.query(
      `UPDATE key_tokens SET revoked_at = now()
        WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2::uuid) RETURNING key`,
      [userId, keep.pairId ?? null],
    )) as [{ key: string }[], number];
    const [tokens] = (await this.dataSource.query(
      `DELETE FROM iam_tokens
        WHERE user_id = $1 AND ($2::bigint IS NULL OR id <> $2::bigint) AND ($3 OR NOT permanent)
        RETURNING key_hash`,
      [userId, keep.iamTokenId ?? null, opts.keys === true],
    )) as [{ key_hash: string }[], number];
    const [keys] = opts.keys
      ? ((await this.dataSource.query(
          `UPDATE api_keys SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL RETURNING key_hash`,
          [userId],
        )) as [{ key_hash: string }[], number])
      : [[] as { key_hash: string }[]];
    for (const k of keys) this.credentialRevoked(k.key_hash);
    for (const p of pairs) this.credentialRevoked(p.key);
    for (const t of tokens) this.credentialRevoked(t.key_hash);
    await this.cancelEmailChanges(userId);
    return { sessions, pairs: pairs.length, iamTokens: tokens.length, apiKeys: keys.length };
  }

  /**
   * MFA has just turned on (API.md 12): every sign-in credential opened before it ends, but the one in use,
   * so that a session somebody else opened with the password alone cannot outlive the new protection.
   */
  async mfaTurnedOn(userId: string, keepSessionId: string | undefined): Promise<void> {
    await this.sessions.revoke({ userId, exceptSessionId: keepSessionId }, 'mfa_enabled');
    await this.cancelEmailChanges(userId);
  }

  /**
   * A change of address asked for and not yet confirmed is a credential in waiting: whoever reads the new
   * mailbox takes the account's address with it, and then its password resets. It ends with the others
   * (logout-all, a password reset or change with reset_tokens) and when MFA turns on, as a factor started
   * before MFA does; otherwise the link outlives the very steps the security notice tells the owner to take.
   */
  private async cancelEmailChanges(userId: string): Promise<void> {
    await this.dataSource.query(`UPDATE email_changes SET used_at = now() WHERE user_id = $1 AND used_at IS NULL`, [
      userId,
    ]);
  }

  credentialRevoked(hash: string): void {
    this.notifyCredential(hash);
    this.broadcast.publish('credential-revoked', { hash });
  }

  private notifyUser(userId: string): void {
    this.users.invalidate(userId);
    for (const l of this.userListeners) l(userId);
  }

  private notifyCredential(hash: string): void {
    for (const l of this.credentialListeners) l(hash);
  }
}
