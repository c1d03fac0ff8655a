import type { DataSource } from 'typeorm';

/** What oidc-provider stores of each artefact: a JSON object with a few well-known fields. */
export interface AdapterPayload {
  [key: string]: unknown;
  grantId?: string;
  userCode?: string;
  uid?: string;
  accountId?: string;
  clientId?: string;
  consumed?: number;
}

/** The adapter interface of oidc-provider 9 (one instance per model name). */
export interface ProviderAdapter {
  upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<AdapterPayload | undefined>;
  findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
  findByUid(uid: string): Promise<AdapterPayload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

/**
 * Models whose artefacts act for a user: they are no longer found once that user is disabled, so that
 * a token issued before the account was disabled is refused at the token, userinfo and introspection
 * endpoints (API.md 15, hostile cases) without waiting for its expiry.
 */
const USER_BOUND = new Set([
  'AccessToken',
  'RefreshToken',
  'AuthorizationCode',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

/** The models whose values may be JWTs (RFC 9068 access tokens). */
const JWT_MODELS = new Set(['AccessToken', 'ClientCredentials']);

/** Ids are nanoids, uids, jtis or client ids; anything longer than the column is no artefact of ours. */
const MAX_ID = 255;

interface Row {
  payload: AdapterPayload;
  consumed: number | null;
}

/**
 * oidc-provider's storage in PostgreSQL: one table keyed by model and id, the payload as jsonb, with the
 * grant id, user code and uid as indexed columns for the lookups the provider makes by them. Expiry is
 * enforced on every read (a row past `expires_at` is not found, whenever the hourly sweep deletes it);
 * `consume` marks a row consumed with one UPDATE, so that of two instances racing to redeem one
 * authorization code, the provider on each sees the mark that the first one set. Every instance shares
 * the table: a restart or another instance continues every flow where it was.
 *
 * Clients are not stored here: the `Client` model is the admins' own table (oauth_clients, through
 * ClientStore), so that a client disabled there is unknown to the provider at once.
 */
/** The `Client` model is the admins' table: found, stored (dynamic registration) and removed through these. */
export interface ClientStore {
  find(clientId: string): Promise<AdapterPayload | undefined>;
  store(clientId: string, metadata: AdapterPayload): Promise<void>;
  remove(clientId: string): Promise<void>;
  /** The jti of a verified JWT access token that this request may look up as an opaque one. */
  jwtAsOpaque?: () => string | undefined;
  /** The error (oidc-provider's invalid_grant) for a code or refresh token that another request consumed first. */
  consumedError?: () => Error;
}

export function pgAdapterFactory(db: DataSource, clients: ClientStore): new (model: string) => ProviderAdapter {
  const jwtAsOpaque = clients.jwtAsOpaque ?? (() => undefined);
  return class PgAdapter implements ProviderAdapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      if (this.model === 'Client') return clients.store(id, payload);
      const expiresAt = typeof expiresIn === 'number' && expiresIn > 0 ? new Date(Date.now() + expiresIn * 1000) : null;
      await db.query(
        `INSERT INTO oauth_models (model, id, payload, grant_id, user_code, uid, account_id, client_id, expires_at)
         VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
           user_code = EXCLUDED.user_code, uid = EXCLUDED.uid, account_id = EXCLUDED.account_id,
           client_id = EXCLUDED.client_id, expires_at = EXCLUDED.expires_at`,
        [
          this.model,
          id,
          JSON.stringify(payload),
          str(payload.grantId),
          str(payload.userCode),
          str(payload.uid),
          str(payload.accountId),
          str(payload.clientId),
          expiresAt,
        ],
      );
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (typeof id !== 'string' || !id || id.length > MAX_ID) return undefined;
      if (this.model === 'Client') return clients.find(id);
      const found = await this.one(`m.model = $1 AND m.id = $2`, [this.model, id]);
      // A JWT access token verified for introspection or revocation is looked up by its record
      // (OAuthProviderService.withJwtToken): for that request only, it answers as an opaque token.
      if (found && JWT_MODELS.has(this.model) && found.format === 'jwt' && id === jwtAsOpaque()) {
        return { ...found, format: 'opaque' };
      }
      return found;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      if (typeof userCode !== 'string' || !userCode || userCode.length > 64) return undefined;
      return this.one(`m.model = $1 AND m.user_code = $2`, [this.model, userCode]);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      if (typeof uid !== 'string' || !uid || uid.length > 64) return undefined;
      return this.one(`m.model = $1 AND m.uid = $2`, [this.model, uid]);
    }

    /**
     * Marks the row consumed only if no one did: of two requests (on any instances) that found the same
     * code or refresh token unconsumed at once, the second loses here, the grant is revoked as for a
     * reuse, and it gets invalid_grant; nothing is issued to it.
     */
    async consume(id: string): Promise<void> {
      const [rows] = (await db.query(
        `UPDATE oauth_models SET consumed_at = now() WHERE model = $1 AND id = $2 AND consumed_at IS NULL RETURNING 1`,
        [this.model, id],
      )) as [unknown[], number];
      if (rows.length) return;
      const [row] = (await db.query(`SELECT grant_id FROM oauth_models WHERE model = $1 AND id = $2`, [
        this.model,
        id,
      ])) as { grant_id: string | null }[];
      // The grant goes too: the winner may still be issuing its tokens, which then belong to no grant
      // and are refused wherever the grant is checked (our API, introspection, refresh).
      if (row?.grant_id) {
        await db.query(`DELETE FROM oauth_models WHERE grant_id = $1 OR (model = 'Grant' AND id = $1)`, [row.grant_id]);
      }
      throw clients.consumedError?.() ?? new Error('already consumed');
    }

    async destroy(id: string): Promise<void> {
      if (this.model === 'Client') return clients.remove(id);
      await db.query(`DELETE FROM oauth_models WHERE model = $1 AND id = $2`, [this.model, id]);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db.query(`DELETE FROM oauth_models WHERE grant_id = $1`, [grantId]);
    }

    private async one(where: string, params: unknown[]): Promise<AdapterPayload | undefined> {
      const userCheck = USER_BOUND.has(this.model)
        ? `AND (m.account_id IS NULL OR EXISTS (SELECT 1 FROM users u WHERE u.id::text = m.account_id AND u.is_active))`
        : '';
      const rows: Row[] = await db.query(
        `SELECT m.payload, extract(epoch FROM m.consumed_at)::bigint AS consumed FROM oauth_models m
          WHERE ${where} AND (m.expires_at IS NULL OR m.expires_at > now()) ${userCheck}`,
        params,
      );
      if (!rows.length) return undefined;
      const { payload, consumed } = rows[0];
      return consumed === null ? payload : { ...payload, consumed: Number(consumed) };
    }
  };
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length ? v : null);

/** Deletes the artefacts whose time has passed (hourly; reads never see them anyway). */
export async function sweepExpired(db: DataSource): Promise<void> {
  await db.query(`DELETE FROM oauth_models WHERE expires_at < now() - interval '1 minute'`);
}
