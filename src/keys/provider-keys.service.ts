import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  verify as verifySignature,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { processStopping } from '../common/shutdown';
import { SecretBox } from '../common/secret-box';
import { newSecret } from '../common/secrets';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ADVISORY_LOCKS } from '../database/locks';
import { KeyDates, needsInitialKey, publishedAt, rotationDue, rotationPlan, signingKeyAt } from './key-set';
import { BroadcastService } from '../redis/broadcast.service';
import { OAUTH_KID_PREFIX } from '../access/provider-bearer';

/** The provider signs ID tokens and JWT access tokens with both; HS256 never signs anything it issues. */
export const PROVIDER_ALGS = ['ES256', 'RS256'] as const;
export type ProviderAlg = (typeof PROVIDER_ALGS)[number];

/** The claims of one of the provider's access tokens, once its signature is verified. */
export interface VerifiedClaims {
  iss?: unknown;
  aud?: unknown;
  exp?: unknown;
  iat?: unknown;
  nbf?: unknown;
  sub?: unknown;
  jti: string;
  client_id?: unknown;
  scope?: unknown;
}

interface KeyRow {
  kid: string;
  alg: ProviderAlg;
  public_jwk: JsonWebKey;
  private_key_enc: Buffer | null;
  publish_at: Date;
  activate_at: Date;
  retire_at: Date | null;
  expire_at: Date | null;
}

interface LoadedKey extends KeyDates {
  alg: ProviderAlg;
  jwk: JsonWebKey;
  privateKey?: KeyObject;
  publicKey?: KeyObject;
}

const SEAL_PURPOSE = 'oauth signing key';
const RELOAD_MS = 5_000;
const KEYS_CHANNEL = 'oauth-signing-keys';
/** Beyond the longest lifetime of what these keys sign (an ID token lives an hour): skew and caches. */
const ID_TOKEN_TTL_SEC = 3600;
const EXPIRY_MARGIN_MS = 60_000;

const toDates = (r: KeyRow): KeyDates => ({
  kid: r.kid,
  publishAt: r.publish_at.getTime(),
  activateAt: r.activate_at.getTime(),
  retireAt: r.retire_at?.getTime() ?? null,
  expireAt: r.expire_at?.getTime() ?? null,
});

/**
 * The provider's signing keys, an ES256 and an RS256 key per generation, kept as section 10 keeps its
 * own (API.md 10): in PostgreSQL with the private halves sealed under JWT_SECRET, the same rules of
 * key-set.ts (a new key is published JWT_KEY_PUBLISH_AHEAD before it signs, a retired key stays published
 * until the last token it signed has expired), rotated every JWT_KEY_ROTATION by whichever instance takes
 * the lock. Their public halves are published in the service's one JWKS (`/.well-known/jwks.json`)
 * beside section 10's, which is the `jwks_uri` of the discovery document.
 */
@Injectable()
export class ProviderKeysService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('OAuthKeys');
  private readonly box: SecretBox;
  private readonly longestTokenMs: number;
  private keys: LoadedKey[] = [];
  private signingKids = '';
  private readonly listeners: (() => void)[] = [];
  private timer?: NodeJS.Timeout;
  private busy?: Promise<void>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly db: DataSource,
    private readonly broadcast: BroadcastService,
  ) {
    this.box = new SecretBox(config.jwt.secret, SEAL_PURPOSE);
    this.longestTokenMs = Math.max(config.oauth.accessTokenTtlSec, ID_TOKEN_TTL_SEC) * 1000 + EXPIRY_MARGIN_MS;
  }

  async onModuleInit(): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.oauthKeys]);
      let { rows, now } = await this.readRows(m);
      // Keys sealed under another JWT_SECRET (it was changed) cannot sign here: they retire at once (their
      // public halves stay published until their tokens expire) and new keys take over, so that changing
      // JWT_SECRET never stops the service from starting.
      const unopenable = await this.unopenable(m);
      if (unopenable.length) {
        await m.query(
          `UPDATE oauth_signing_keys SET retire_at = to_timestamp($2 / 1000.0), expire_at = to_timestamp($3 / 1000.0),
             private_key_enc = NULL
           WHERE kid = ANY($1::text[]) AND (retire_at IS NULL OR retire_at > to_timestamp($2 / 1000.0))`,
          [unopenable, now, now + this.longestTokenMs],
        );
        this.logger.warn(
          `${unopenable.length} OAuth signing key(s) were sealed under another JWT_SECRET: retired, new keys take over`,
        );
        ({ rows, now } = await this.readRows(m));
      }
      for (const alg of PROVIDER_ALGS) {
        const mine = rows.filter((r) => r.alg === alg).map(toDates);
        if (needsInitialKey(mine, now)) await this.insertRotation(m, rows, alg, now);
      }
    });
    await this.load();
    this.broadcast.on(KEYS_CHANNEL, () => void this.tick(false));
    this.timer = setInterval(() => void this.tick(true), RELOAD_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.busy;
  }

  /** Called when the keys that sign change (a rotation took effect): the provider is rebuilt with them. */
  onSigningKeysChanged(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The private JWKs that sign now, one per algorithm, ES256 first (the default of every client). */
  signingJwks(): JsonWebKey[] {
    const now = Date.now();
    const out: JsonWebKey[] = [];
    for (const alg of PROVIDER_ALGS) {
      const mine = this.keys.filter((k) => k.alg === alg && k.privateKey);
      const k = signingKeyAt(mine, now) ?? mine.find((c) => (c.retireAt ?? Infinity) > now);
      if (!k?.privateKey) throw new Error(`no ${alg} key of the OAuth provider can sign now`);
      out.push({
        ...(k.privateKey.export({ format: 'jwk' }) as JsonWebKey),
        kid: k.kid,
        alg,
        use: 'sig',
      } as JsonWebKey);
    }
    return out;
  }

  /** The public JWKs published now (for the service's JWKS). */
  publishedJwks(): JsonWebKey[] {
    return publishedAt(this.keys, Date.now()).map(
      (k) => ({ ...k.jwk, kid: k.kid, alg: k.alg, use: 'sig' }) as JsonWebKey,
    );
  }

  /** The public key that verifies a token of this kid and alg, when it is published now. */
  verificationKey(kid: unknown, alg: unknown): KeyObject | undefined {
    if (typeof kid !== 'string') return undefined;
    const k = this.keys.find((c) => c.kid === kid);
    if (!k || k.alg !== alg) return undefined;
    const now = Date.now();
    if (k.publishAt > now || (k.expireAt !== null && k.expireAt <= now)) return undefined;
    k.publicKey ??= createPublicKey({ key: k.jwk, format: 'jwk' });
    return k.publicKey;
  }

  /**
   * The claims of a JWT that one of the provider's published keys signed (header `typ` at+jwt, alg the
   * key's own) for `issuer`, or undefined. Expiry and audience are the caller's to check.
   */
  verifiedClaims(token: string, issuer: string): VerifiedClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0].length > 512) return undefined;
    let header: { alg?: unknown; kid?: unknown; typ?: unknown };
    let claims: VerifiedClaims;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as VerifiedClaims;
    } catch {
      return undefined;
    }
    if (header.typ !== 'at+jwt' || typeof claims !== 'object' || claims === null) return undefined;
    const key = this.verificationKey(header.kid, header.alg);
    if (!key) return undefined;
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    const signature = Buffer.from(parts[2], 'base64url');
    const ok =
      header.alg === 'ES256'
        ? verifySignature('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, signature)
        : verifySignature('sha256', signed, key, signature);
    if (!ok || claims.iss !== issuer || typeof claims.jti !== 'string') return undefined;
    return claims;
  }

  /** Rotates both keys now (the new ones sign JWT_KEY_PUBLISH_AHEAD from now). */
  async rotate(): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.oauthKeys]);
      const { rows, now } = await this.readRows(m);
      for (const alg of PROVIDER_ALGS) await this.insertRotation(m, rows, alg, now);
    });
    this.broadcast.publish(KEYS_CHANNEL, {});
    await this.load();
  }

  private tick(scheduled: boolean): Promise<void> {
    this.busy ??= (async () => {
      try {
        if (scheduled) await this.rotateIfDue();
        await this.load();
      } catch (e) {
        this.logger[processStopping() ? 'debug' : 'warn'](`reading the OAuth keys failed: ${(e as Error).message}`);
      }
    })().finally(() => (this.busy = undefined));
    return this.busy;
  }

  private async rotateIfDue(): Promise<void> {
    if (!this.db.isInitialized) return;
    const rotated = await this.db.transaction(async (m) => {
      const [{ locked }] = (await m.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [
        ADVISORY_LOCKS.oauthKeys,
      ])) as { locked: boolean }[];
      if (!locked) return false;
      await m.query(
        `UPDATE oauth_signing_keys SET private_key_enc = NULL
          WHERE private_key_enc IS NOT NULL AND retire_at < now() - interval '1 minute'`,
      );
      const { rows, now } = await this.readRows(m);
      let any = false;
      for (const alg of PROVIDER_ALGS) {
        const mine = rows.filter((r) => r.alg === alg).map(toDates);
        if (rotationDue(mine, now, this.config.jwt.keyRotationMs)) {
          await this.insertRotation(m, rows, alg, now);
          any = true;
        }
      }
      return any;
    });
    if (rotated) this.broadcast.publish(KEYS_CHANNEL, {});
  }

  private async load(): Promise<void> {
    if (!this.db.isInitialized) return;
    const rows: KeyRow[] = await this.db.query(
      `SELECT kid, alg, public_jwk, private_key_enc, publish_at, activate_at, retire_at, expire_at
         FROM oauth_signing_keys WHERE expire_at IS NULL OR expire_at > now() ORDER BY activate_at`,
    );
    const known = new Map(this.keys.map((k) => [k.kid, k]));
    this.keys = rows.map((r) => ({
      ...toDates(r),
      alg: r.alg,
      jwk: r.public_jwk,
      privateKey: r.private_key_enc
        ? (known.get(r.kid)?.privateKey ?? this.tryOpen(r.kid, r.private_key_enc))
        : undefined,
      publicKey: known.get(r.kid)?.publicKey,
    }));
    const kids = this.signingJwks()
      .map((k) => (k as { kid: string }).kid)
      .join(',');
    if (kids !== this.signingKids) {
      const first = this.signingKids === '';
      this.signingKids = kids;
      if (!first) for (const l of this.listeners) l();
    }
  }

  /** The kids of the keys still to sign whose private halves do not open under this JWT_SECRET. */
  private async unopenable(m: EntityManager): Promise<string[]> {
    const rows: { kid: string; private_key_enc: Buffer | null }[] = await m.query(
      `SELECT kid, private_key_enc FROM oauth_signing_keys WHERE private_key_enc IS NOT NULL AND (retire_at IS NULL OR retire_at > now())`,
    );
    return rows
      .filter((r) => {
        try {
          this.open(r.kid, r.private_key_enc!);
          return false;
        } catch {
          return true;
        }
      })
      .map((r) => r.kid);
  }

  private tryOpen(kid: string, sealed: Buffer): KeyObject | undefined {
    try {
      return this.open(kid, sealed);
    } catch {
      this.logger.error(`OAuth signing key ${kid} cannot be opened (sealed under another JWT_SECRET)`);
      return undefined;
    }
  }

  private open(kid: string, sealed: Buffer): KeyObject {
    return createPrivateKey({ key: this.box.open(sealed, kid), format: 'der', type: 'pkcs8' });
  }

  private async readRows(m: EntityManager): Promise<{ rows: KeyRow[]; now: number }> {
    const [{ now }] = (await m.query(`SELECT now() AS now`)) as { now: Date }[];
    const rows: KeyRow[] = await m.query(
      `SELECT kid, alg, public_jwk, NULL AS private_key_enc, publish_at, activate_at, retire_at, expire_at
         FROM oauth_signing_keys ORDER BY activate_at`,
    );
    return { rows, now: now.getTime() };
  }

  private async insertRotation(m: EntityManager, rows: KeyRow[], alg: ProviderAlg, now: number): Promise<void> {
    const mine = rows.filter((r) => r.alg === alg);
    const plan = rotationPlan(mine.map(toDates), now, this.config.jwt.keyPublishAheadMs, this.longestTokenMs);
    const pair =
      alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
    // The prefix tells the authentication guard that a bearer token is the provider's (API.md 15).
    const kid = `${OAUTH_KID_PREFIX}${newSecret(16)}`;
    const jwk = pair.publicKey.export({ format: 'jwk' });
    const sealed = this.box.seal(pair.privateKey.export({ format: 'der', type: 'pkcs8' }), kid);
    for (const r of plan.retire) {
      await m.query(`UPDATE oauth_signing_keys SET retire_at = $2, expire_at = $3 WHERE kid = $1`, [
        r.kid,
        new Date(r.retireAt),
        new Date(r.expireAt),
      ]);
    }
    await m.query(
      `INSERT INTO oauth_signing_keys (kid, alg, public_jwk, private_key_enc, created_at, publish_at, activate_at)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7)`,
      [
        kid,
        alg,
        JSON.stringify(jwk),
        sealed,
        new Date(now),
        new Date(plan.next.publishAt),
        new Date(plan.next.activateAt),
      ],
    );
    this.logger.log(`new ${alg} key ${kid} for the OAuth provider`);
  }
}
