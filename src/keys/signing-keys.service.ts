import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { processStopping } from '../common/shutdown';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { type EntityManager } from 'typeorm';
import { DomainError } from '../common/errors/domain-error';
import { SecretBox } from '../common/secret-box';
import { newSecret } from '../common/secrets';
import { APP_CONFIG, type AppConfig, JwtAlgorithm } from '../config/config';
import { BroadcastService } from '../redis/broadcast.service';
import {
  isPublishedAt,
  KeyDates,
  KeyState,
  needsInitialKey,
  publishedAt,
  rotationDue,
  rotationPlan,
  signingKeyAt,
  stateAt,
} from './key-set';
import { type AsymmetricAlgorithm, type KeyRow, SigningKeysRepository } from './signing-keys.repository';

/** A key as every instance holds it in memory. */
interface LoadedKey extends KeyDates {
  alg: AsymmetricAlgorithm;
  jwk: JsonWebKey;
  publicKey: KeyObject;
}

/** What the access-token service signs with. */
export interface SignerKey {
  kid: string;
  alg: AsymmetricAlgorithm;
  privateKey: KeyObject;
}

/** A key as the admin routes show it: never any private material. */
export interface SigningKeyView {
  kid: string;
  alg: string;
  state: KeyState;
  created_at: string;
  publish_at: string;
  activate_at: string;
  retire_at: string | null;
  expire_at: string | null;
}

/** One entry of the JWKS (RFC 7517). */
export interface PublicJwk extends JsonWebKey {
  kid: string;
  alg: string;
  use: 'sig';
}

/** Why a token's header names no key that may verify it (the strategy refuses it with INVALID_TOKEN). */
export type KeyLookup = { key: KeyObject } | { refused: string; unknownKid?: true };

/** The kids this service makes: 16 random bytes in base64url. Anything else cannot be ours. */
const KID_FORMAT = /^[A-Za-z0-9_-]{16,64}$/;
/** A JOSE header is a few dozen bytes; a longer first segment is not worth decoding. */
const MAX_HEADER_CHARS = 1024;
const KEYS_CHANNEL = 'signing-keys';
/** Every instance reads the rows this often, with or without Redis. */
const KEYS_RELOAD_MS = 5_000;
/** A token with an unknown kid makes the instance read the rows again, at most this often. */
const UNKNOWN_KID_RELOAD_MS = 1_000;
/** Beyond the longest access-token lifetime: the verifiers' clock tolerance and skew. */
const EXPIRY_MARGIN_MS = 60_000;
/** A retired key's private half is wiped this long after it stopped signing (skewed clocks). */
const WIPE_AFTER_RETIRE_MS = 60_000;
const SEAL_PURPOSE = 'signing key';

const toDates = (r: KeyRow): KeyDates => ({
  kid: r.kid,
  publishAt: r.publish_at.getTime(),
  activateAt: r.activate_at.getTime(),
  retireAt: r.retire_at?.getTime() ?? null,
  expireAt: r.expire_at?.getTime() ?? null,
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The signing keys of access tokens for JWT_ALGORITHM=ES256 (API.md 10): kept in PostgreSQL with the
 * private halves sealed under JWT_SECRET, loaded by every instance, rotated by an admin or on schedule
 * (by one instance, under an advisory lock), published as a JWKS. With HS256 it holds nothing and does
 * nothing: the symmetric JWT_SECRET is never published.
 *
 * Which key signs and which keys verify at a moment is derived from the rows (key-set.ts); after a
 * rotation the other instances read the rows again when Redis tells them, every 5 s otherwise, and when
 * a token names a kid that they do not know.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('SigningKeys');
  readonly algorithm: JwtAlgorithm;
  private readonly box: SecretBox;
  /** The longest an access token lives, plus the margin: how long a retired key stays published. */
  private readonly longestTokenMs: number;
  private keys: LoadedKey[] = [];
  private byKid = new Map<string, LoadedKey>();
  private privateKeys = new Map<string, KeyObject>();
  private readonly shrinkListeners: (() => void)[] = [];
  private loading?: Promise<void>;
  private lastUnknownKidReload = 0;
  private reloadTimer?: NodeJS.Timeout;
  private rotationTimer?: NodeJS.Timeout;
  private ticking?: Promise<unknown>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: SigningKeysRepository,
    private readonly broadcast: BroadcastService,
  ) {
    this.algorithm = config.jwt.algorithm;
    this.box = new SecretBox(config.jwt.secret, SEAL_PURPOSE);
    this.longestTokenMs = Math.max(config.jwt.expiresInSec, config.jwt.rememberExpiresInSec) * 1000 + EXPIRY_MARGIN_MS;
  }

  /** Whether tokens are signed with the database's keys (ES256), rather than with JWT_SECRET (HS256). */
  get asymmetric(): boolean {
    return this.algorithm !== 'HS256';
  }

  async onModuleInit(): Promise<void> {
    if (!this.asymmetric) return;
    this.broadcast.on(KEYS_CHANNEL, () => void this.reload());
    await this.repo.transaction(async (m) => {
      await this.repo.lock(m);
      const { rows, now } = await this.repo.readRows(m);
      if (needsInitialKey(rows.map(toDates), now)) {
        const kid = await this.insertRotation(m, rows, now);
        this.logger.log(`created the first ${this.algorithm} signing key ${kid}`);
      }
    });
    // Fail at start, not at the first sign-in, when a key that signs or will sign cannot be opened.
    this.apply(await this.repo.readLive(), true);
    this.reloadTimer = setInterval(() => void this.reload(), KEYS_RELOAD_MS);
    this.reloadTimer.unref();
    const rotation = this.config.jwt.keyRotationMs;
    const tickMs = rotation === null ? 60_000 : Math.min(60_000, Math.max(250, Math.floor(rotation / 4)));
    this.rotationTimer = setInterval(() => void this.tick(), tickMs);
    this.rotationTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.reloadTimer) clearInterval(this.reloadTimer);
    if (this.rotationTimer) clearInterval(this.rotationTimer);
    await Promise.allSettled([this.loading, this.ticking]);
  }

  /** The key that signs now, with its private half. */
  current(): SignerKey {
    const now = Date.now();
    // Nothing has begun to sign by this clock only when it runs behind the database's at the first
    // start: then the first key to come signs.
    const k =
      signingKeyAt(this.keys, now) ?? this.keys.find((c) => c.activateAt > now && (c.retireAt ?? Infinity) > now);
    const privateKey = k && this.privateKeys.get(k.kid);
    if (!k || !privateKey) throw new Error('no signing key can sign now');
    return { kid: k.kid, alg: k.alg, privateKey };
  }

  /**
   * The public key that may verify `token`, chosen by the kid of a header that is not trusted yet: the
   * kid must be one of ours, the key published and not expired, and the header's alg the key's own.
   */
  verificationKey(token: string): KeyLookup {
    const dot = token.indexOf('.');
    if (dot <= 0 || dot > MAX_HEADER_CHARS) return { refused: 'malformed token' };
    let header: unknown;
    try {
      header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'));
    } catch {
      return { refused: 'malformed header' };
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) return { refused: 'malformed header' };
    const { kid, alg } = header as { kid?: unknown; alg?: unknown };
    // A kid of another shape (path or SQL characters, say) is simply not one of ours; it is never used
    // as anything but a key of this in-memory map.
    if (typeof kid !== 'string' || !KID_FORMAT.test(kid)) return { refused: 'unknown kid' };
    const key = this.byKid.get(kid);
    if (!key) return { refused: 'unknown kid', unknownKid: true };
    if (alg !== key.alg) return { refused: "alg is not the key's" };
    if (!isPublishedAt(key, Date.now())) return { refused: 'key is not published' };
    return { key: key.publicKey };
  }

  /** After a token named a kid that is not known here: read the rows again, at most once a second. */
  reloadForUnknownKid(): Promise<void> {
    const now = Date.now();
    if (now - this.lastUnknownKidReload < UNKNOWN_KID_RELOAD_MS) return this.loading ?? Promise.resolve();
    this.lastUnknownKidReload = now;
    return this.reload();
  }

  /** Called when a key left the set sooner than tokens it signed expire (verified-token caches drop them). */
  onKeysShrunk(listener: () => void): void {
    this.shrinkListeners.push(listener);
  }

  /**
   * The JWKS: the public keys published now, the newest first (none of its own with HS256), then those of
   * the other issuers in this service that publish here (the OAuth provider, API.md 15).
   */
  jwks(): { keys: PublicJwk[] } {
    return {
      keys: [
        ...publishedAt(this.keys, Date.now()).map((k) => ({ ...k.jwk, kid: k.kid, alg: k.alg, use: 'sig' as const })),
        ...this.alsoPublished.flatMap((source) => source()),
      ],
    };
  }

  private readonly alsoPublished: (() => PublicJwk[])[] = [];

  /** Another issuer of this service publishes its public keys in the same JWKS. */
  publishAlso(source: () => PublicJwk[]): void {
    this.alsoPublished.push(source);
  }

  /** Every key with its state and dates, the newest first (admin). */
  async list(): Promise<SigningKeyView[]> {
    if (!this.asymmetric) return [];
    const { rows, now } = await this.repo.readRows();
    return this.views(rows, now);
  }

  /**
   * Rotates now (admin): one transaction publishes a new key that signs JWT_KEY_PUBLISH_AHEAD from now,
   * when the current key retires. Answers the new key and the whole list.
   */
  async rotate(): Promise<{ key: SigningKeyView; keys: SigningKeyView[] }> {
    if (!this.asymmetric) {
      throw new DomainError(
        'CONFLICT',
        'JWT_ALGORITHM is HS256: there are no signing keys to rotate (the shared JWT_SECRET signs every token)',
      );
    }
    const kid = await this.repo.transaction(async (m) => {
      await this.repo.lock(m);
      const { rows, now } = await this.repo.readRows(m);
      return this.insertRotation(m, rows, now);
    });
    await this.announce(kid, 'rotated by an admin');
    const keys = await this.list();
    return { key: keys.find((k) => k.kid === kid)!, keys };
  }

  /** Reads the rows again (the only writer of the in-memory set); concurrent calls share one read. */
  reload(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<void> {
    if (!this.repo.ready) return;
    try {
      this.apply(await this.repo.readLive(), false);
    } catch (e) {
      this.logger[processStopping() ? 'debug' : 'warn'](`reading the signing keys failed: ${(e as Error).message}`);
    }
  }

  /**
   * Replaces the in-memory set. A private half that does not open (sealed under another JWT_SECRET)
   * fails the start (`strict`); later it is logged and that key cannot sign here.
   */
  private apply(rows: KeyRow[], strict: boolean): void {
    const now = Date.now();
    const before = this.byKid;
    const keys: LoadedKey[] = rows.map((r) => {
      const known = before.get(r.kid);
      const dates = toDates(r);
      return {
        ...dates,
        alg: r.alg,
        jwk: r.public_jwk,
        publicKey: known?.publicKey ?? createPublicKey({ key: r.public_jwk, format: 'jwk' }),
      };
    });
    const privateKeys = new Map<string, KeyObject>();
    for (const r of rows) {
      if (r.retire_at !== null && r.retire_at.getTime() <= now) continue;
      const known = this.privateKeys.get(r.kid);
      if (known) {
        privateKeys.set(r.kid, known);
        continue;
      }
      try {
        if (!r.private_key_enc) throw new Error(`signing key ${r.kid} has no private half`);
        privateKeys.set(r.kid, this.openPrivateKey(r.kid, r.private_key_enc));
      } catch (e) {
        if (strict) throw e;
        this.logger.error((e as Error).message);
      }
    }
    const byKid = new Map(keys.map((k) => [k.kid, k]));
    // A rotation only adds keys and gives the old one an expiry past its tokens' lifetimes; a key that
    // is gone, or leaves sooner than a token signed now would, means tokens verified earlier may be stale.
    const shrunk = [...before.values()].some((old) => {
      const next = byKid.get(old.kid);
      if (!next) return old.expireAt === null || old.expireAt > now;
      return next.expireAt !== old.expireAt && next.expireAt !== null && next.expireAt < now + this.longestTokenMs;
    });
    this.keys = keys;
    this.byKid = byKid;
    this.privateKeys = privateKeys;
    if (shrunk) for (const listener of this.shrinkListeners) listener();
  }

  private openPrivateKey(kid: string, sealed: Buffer): KeyObject {
    try {
      return createPrivateKey({ key: this.box.open(sealed, kid), format: 'der', type: 'pkcs8' });
    } catch {
      throw new Error(
        `signing key ${kid} cannot be opened: it was sealed under another JWT_SECRET. Restore that JWT_SECRET, ` +
          'or delete the rows of signing_keys to start over with a new key (tokens signed by the old ones stop verifying)',
      );
    }
  }

  /** The scheduled work, by whichever instance gets the lock: a due rotation, and wiping retired keys. */
  private tick(): Promise<unknown> {
    this.ticking ??= this.tickOnce().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async tickOnce(): Promise<void> {
    if (!this.repo.ready) return;
    try {
      const rotated = await this.repo.transaction(async (m) => {
        if (!(await this.repo.tryLock(m))) return null;
        await this.repo.wipeRetired(WIPE_AFTER_RETIRE_MS / 1000, m);
        const { rows, now } = await this.repo.readRows(m);
        if (!rotationDue(rows.map(toDates), now, this.config.jwt.keyRotationMs)) return null;
        return this.insertRotation(m, rows, now);
      });
      if (rotated) await this.announce(rotated, 'scheduled rotation (JWT_KEY_ROTATION)');
    } catch (e) {
      this.logger[processStopping() ? 'debug' : 'warn'](`signing-key rotation check failed: ${(e as Error).message}`);
    }
  }

  private async announce(kid: string, why: string): Promise<void> {
    this.logger.log(`new signing key ${kid}: ${why}`);
    this.broadcast.publish(KEYS_CHANNEL, { kid });
    await this.reload();
  }

  /** Inserts the next key and retires the current one (the caller holds the lock, in its transaction). */
  private async insertRotation(m: EntityManager, rows: KeyRow[], now: number): Promise<string> {
    const plan = rotationPlan(rows.map(toDates), now, this.config.jwt.keyPublishAheadMs, this.longestTokenMs);
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = newSecret(16);
    const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
    const sealed = this.box.seal(privateKey.export({ format: 'der', type: 'pkcs8' }), kid);
    for (const r of plan.retire) await this.repo.retire(r.kid, new Date(r.retireAt), new Date(r.expireAt), m);
    await this.repo.insert(
      {
        kid,
        alg: this.algorithm as AsymmetricAlgorithm,
        publicJwk: { kty, crv, x, y },
        sealed,
        createdAt: new Date(now),
        publishAt: new Date(plan.next.publishAt),
        activateAt: new Date(plan.next.activateAt),
      },
      m,
    );
    return kid;
  }

  private views(rows: KeyRow[], now: number): SigningKeyView[] {
    const dates = rows.map(toDates);
    return rows
      .map((r, i) => ({
        kid: r.kid,
        alg: r.alg,
        state: stateAt(dates[i], dates, now),
        created_at: r.created_at.toISOString(),
        publish_at: r.publish_at.toISOString(),
        activate_at: r.activate_at.toISOString(),
        retire_at: iso(dates[i].retireAt),
        expire_at: iso(dates[i].expireAt),
      }))
      .reverse();
  }
}
