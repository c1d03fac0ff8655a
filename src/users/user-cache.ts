import { Injectable } from '@nestjs/common';
import { User } from './entities/user.entity';

const TTL_MS = 1_000;
const MAX_ENTRIES = 10_000;

/**
 * The users behind busy credentials, kept at most a second so that `/api/auth/me`, `GET /users` and
 * `/v1/whoami/` need no database round trip in the steady state. Every write through the service
 * invalidates its entry at once; other instances see a change within the second.
 */
@Injectable()
export class UserCache {
  private readonly entries = new Map<string, { user: User; until: number }>();

  async get(id: string, load: () => Promise<User | null>): Promise<User | null> {
    const hit = this.entries.get(id);
    if (hit && hit.until > Date.now()) return hit.user;
    const user = await load();
    if (user) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(id, { user, until: Date.now() + TTL_MS });
    } else {
      this.entries.delete(id);
    }
    return user;
  }

  invalidate(id: string): void {
    this.entries.delete(id);
  }
}
