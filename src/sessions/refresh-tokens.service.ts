import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { deriveKey, deriveSecret, hashSecret } from '../common/secrets';

/** Two tabs refreshing at once both present the old token; within this window both get the same new one. */
export const REFRESH_GRACE_SECONDS = 10;
const MAX_TOKEN_LENGTH = 256;

export type Rotation =
  | {
      kind: 'rotated' | 'grace';
      sessionId: string;
      userId: string;
      token: string;
      expiresAt: Date;
      /** The session's remember-me and sign-in method, which shape the new access token. */
      remember: boolean;
      method: string;
      /** The assurance of the sign-in, which every refresh keeps. */
      amr: string[];
      aal: number;
      /** When the session's sign-in happened (its auth_time, which every refresh keeps). */
      signedInAt: Date;
    }
  | { kind: 'reused'; sessionId: string; userId: string }
  | { kind: 'invalid' };

interface SessionOfToken {
  session_id: string;
  expires_at: Date;
  user_id: string;
  remember: boolean;
  method: string;
  amr: string[];
  aal: number;
  created_at: Date;
}

/** The successor token, handed over with what the new access token needs to know of its session. */
function handOver(kind: 'rotated' | 'grace', row: SessionOfToken, successor: string): Rotation {
  return {
    kind,
    sessionId: row.session_id,
    userId: row.user_id,
    token: successor,
    expiresAt: row.expires_at,
    remember: row.remember,
    method: row.method,
    amr: row.amr,
    aal: row.aal,
    signedInAt: new Date(row.created_at),
  };
}

/**
 * Refresh tokens: opaque, hashed at rest, rotated on every use by one conditional UPDATE. The successor
 * of a token is derived from it with a server key (HMAC), so a request that loses the race, or a retry
 * within the grace window, can be given the very same successor without any plain token being stored.
 */
@Injectable()
export class RefreshTokensService {
  private readonly key: Buffer;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.key = deriveKey(config.jwt.secret, 'refresh-token successor');
  }

  async rotate(presented: unknown): Promise<Rotation> {
    if (typeof presented !== 'string' || presented.length === 0 || presented.length > MAX_TOKEN_LENGTH) {
      return { kind: 'invalid' };
    }
    const hash = hashSecret(presented);
    const successor = deriveSecret(this.key, 'refresh', presented);
    // One statement, so one round trip and atomic by itself: the conditional UPDATE marks the token used
    // (only one of any number of racing requests can match it) and the successor is inserted with it.
    const won = (await this.dataSource.query(
      `WITH won AS (
         UPDATE refresh_tokens r SET rotated_at = now()
           FROM login_sessions s
          WHERE r.token_hash = $1 AND r.rotated_at IS NULL AND r.expires_at > now()
            AND s.id = r.session_id AND s.revoked_at IS NULL AND s.expires_at > now()
          RETURNING r.id, r.session_id, r.expires_at, s.user_id, s.remember, s.method, s.amr, s.aal, s.created_at
       ), successor AS (
         INSERT INTO refresh_tokens (session_id, token_hash, parent_id, expires_at)
         SELECT session_id, $2, id, expires_at FROM won
       )
       SELECT session_id, expires_at, user_id, remember, method, amr, aal, created_at FROM won`,
      [hash, hashSecret(successor)],
    )) as SessionOfToken[];
    if (won.length) return handOver('rotated', won[0], successor);
    // Lost: the token is unknown, expired, of a revoked session, or already rotated. Within the grace
    // window a rotated token whose successor is still unused gets that same successor again.
    const [row] = (await this.dataSource.query(
      `SELECT r.session_id, r.expires_at, s.user_id, s.remember, s.method, s.amr, s.aal, s.created_at,
              s.revoked_at IS NOT NULL AS revoked,
              r.expires_at <= now() AS expired,
              r.rotated_at > now() - make_interval(secs => $2) AS in_grace,
              EXISTS (SELECT 1 FROM refresh_tokens c WHERE c.token_hash = $3 AND c.rotated_at IS NULL) AS successor_live
         FROM refresh_tokens r JOIN login_sessions s ON s.id = r.session_id
        WHERE r.token_hash = $1`,
      [hash, REFRESH_GRACE_SECONDS, hashSecret(successor)],
    )) as (SessionOfToken & {
      revoked: boolean;
      expired: boolean;
      in_grace: boolean;
      successor_live: boolean;
    })[];
    if (!row || row.revoked || row.expired) return { kind: 'invalid' };
    if (row.in_grace && row.successor_live) return handOver('grace', row, successor);
    return { kind: 'reused', sessionId: row.session_id, userId: row.user_id };
  }
}
