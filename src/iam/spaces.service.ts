import { Injectable } from '@nestjs/common';
import { AccessRevoker } from '../sessions/access-revoker.service';
import { DomainError } from '../common/errors/domain-error';
import { SpacesRepository, type SpaceRow } from './spaces.repository';

export interface SpaceView {
  id: number;
  name: string;
  created: string;
}

const view = (r: SpaceRow): SpaceView => ({ id: Number(r.id), name: r.name, created: r.created_at.toISOString() });

/** Spaces group a user's IAM tokens; a user reaches only its own (anybody else's is 404). */
@Injectable()
export class SpacesService {
  constructor(
    private readonly repo: SpacesRepository,
    private readonly revoker: AccessRevoker,
  ) {}

  async create(userId: string, name: string): Promise<SpaceView> {
    return view(await this.repo.insert(userId, name));
  }

  async list(
    userId: string,
    q: { search?: string; limit: number; offset: number },
  ): Promise<{ results: SpaceView[]; count: number }> {
    const pattern = q.search ? `%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
    const rows = await this.repo.page(userId, pattern, q.limit, q.offset);
    let count = rows.length ? Number(rows[0].total) : 0;
    if (!rows.length && q.offset > 0) count = await this.repo.count(userId, pattern);
    return { results: rows.map(view), count };
  }

  /** The space's database id, if it belongs to the user. */
  async own(userId: string, id: string): Promise<SpaceView> {
    if (!/^\d{1,18}$/.test(id)) throw new DomainError('NOT_FOUND', 'Not found.');
    const row = await this.repo.own(userId, id);
    if (!row) throw new DomainError('NOT_FOUND', 'Not found.');
    return view(row);
  }

  async rename(userId: string, id: string, name: string): Promise<SpaceView> {
    await this.own(userId, id);
    const row = await this.repo.rename(userId, id, name);
    if (!row) throw new DomainError('NOT_FOUND', 'Not found.');
    return view(row);
  }

  /** Deleting a space deletes its tokens, which are refused at once. */
  async remove(userId: string, id: string): Promise<void> {
    await this.own(userId, id);
    await this.repo.transaction(async (m) => {
      // Locked first: a token being created in this space waits, then finds the space gone (404),
      // instead of being created and silently removed by the cascade.
      await this.repo.lock(userId, id, m);
      const tokens = await this.repo.removeTokens(id, m);
      await this.repo.remove(userId, id, m);
      for (const hash of tokens) this.revoker.credentialRevoked(hash);
    });
  }
}
