import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError } from '../common/errors/domain-error';
import type { SignInMethod } from '../sessions/session-issuer.service';

/** Where a sign-in began: the options of its first step that its second step answers with. */
export interface SignInFlow {
  surface: 'portal' | 'clinical';
  method: SignInMethod;
  remember: boolean;
  setCookie: boolean;
}

/** The queries of `pending_sign_ins`: written with the challenge, read by the second step. */
@Injectable()
export class PendingSignIns {
  constructor(private readonly dataSource: DataSource) {}

  async save(challengeId: string, flow: SignInFlow, manager: EntityManager): Promise<void> {
    await manager.query(
      `INSERT INTO pending_sign_ins (challenge_id, surface, method, remember, set_cookie) VALUES ($1, $2, $3, $4, $5)`,
      [challengeId, flow.surface, flow.method, flow.remember, flow.setCookie],
    );
  }

  /** The flow of a live challenge; none (which a challenge always has) reads as a dead token. */
  async of(challengeId: string): Promise<SignInFlow> {
    const [row] = (await this.dataSource.query(
      `SELECT surface, method, remember, set_cookie FROM pending_sign_ins WHERE challenge_id = $1`,
      [challengeId],
    )) as { surface: 'portal' | 'clinical'; method: SignInMethod; remember: boolean; set_cookie: boolean }[];
    if (!row) throw new DomainError('INVALID_TOKEN', 'This sign-in step is invalid or has expired; sign in again');
    return { surface: row.surface, method: row.method, remember: row.remember, setCookie: row.set_cookie };
  }
}
