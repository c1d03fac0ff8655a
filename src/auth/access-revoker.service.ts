import { Injectable } from '@nestjs/common';
import { BroadcastService } from '../redis/broadcast.service';
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

  credentialRevoked(hash: string): void {
    this.notifyCredential(hash);
    this.broadcast.publish('credential-revoked', { hash });
  }

  private notifyUser(userId: string): void {
    for (const l of this.userListeners) l(userId);
  }

  private notifyCredential(hash: string): void {
    for (const l of this.credentialListeners) l(hash);
  }
}
