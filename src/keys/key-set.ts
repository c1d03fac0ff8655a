/**
 * The rules of the signing keys, as pure functions of the rows and a moment (ms since the epoch), so that
 * every instance that holds the same rows gives the same answers at the same moment without talking to
 * the others: "one row is the truth".
 */
export interface KeyDates {
  kid: string;
  /** In the JWKS from then on. */
  publishAt: number;
  /** Signs from then on, until a key with a later activateAt takes over. */
  activateAt: number;
  /** When the next key took over (set by the rotation that made it): the key signs no more. */
  retireAt: number | null;
  /** Leaves the JWKS: retireAt plus the longest lifetime of an access token. */
  expireAt: number | null;
}

/** `scheduled`: not yet published; `pending`: published, not yet signing; `active`: signs now. */
export type KeyState = 'scheduled' | 'pending' | 'active' | 'retired' | 'expired';

/** The key that signs at `at`: of those whose activateAt has come and whose retireAt has not, the latest. */
export function signingKeyAt<K extends KeyDates>(keys: readonly K[], at: number): K | undefined {
  let best: K | undefined;
  for (const k of keys) {
    if (k.activateAt > at || (k.retireAt !== null && k.retireAt <= at)) continue;
    if (best === undefined || k.activateAt > best.activateAt) best = k;
  }
  return best;
}

/** Whether the key is in the JWKS at `at` (and so may verify a token presented then). */
export function isPublishedAt(k: KeyDates, at: number): boolean {
  return k.publishAt <= at && (k.expireAt === null || at < k.expireAt);
}

/** The keys of the JWKS at `at`, the newest first. */
export function publishedAt<K extends KeyDates>(keys: readonly K[], at: number): K[] {
  return keys.filter((k) => isPublishedAt(k, at)).sort((a, b) => b.activateAt - a.activateAt);
}

export function stateAt(k: KeyDates, keys: readonly KeyDates[], at: number): KeyState {
  if (k.expireAt !== null && at >= k.expireAt) return 'expired';
  if (at < k.publishAt) return 'scheduled';
  if (at < k.activateAt) return 'pending';
  return signingKeyAt(keys, at)?.kid === k.kid ? 'active' : 'retired';
}

/** No key signs now and none is waiting to: the first start, or every key has retired. */
export function needsInitialKey(keys: readonly KeyDates[], at: number): boolean {
  return !keys.some((k) => k.retireAt === null || k.retireAt > at);
}

/** Whether the newest key (signing or waiting to) is `rotationMs` old, counted from when it began to sign. */
export function rotationDue(keys: readonly KeyDates[], at: number, rotationMs: number | null): boolean {
  if (rotationMs === null || keys.length === 0) return false;
  const newest = keys.reduce((a, b) => (b.activateAt > a.activateAt ? b : a));
  return newest.activateAt + rotationMs <= at;
}

export interface RotationPlan {
  next: { publishAt: number; activateAt: number };
  /** Every key that has not been given a retirement: the one signing, and one still waiting to. */
  retire: { kid: string; retireAt: number; expireAt: number }[];
}

/**
 * A rotation at `at`: the new key is published at once and signs `publishAheadMs` later, so that caches
 * of the JWKS (5 minutes) hold it before the first token it signs; from that moment the current key
 * signs no more, and it stays published until the last token it may have signed has expired.
 * A first key (nothing to hand over from) signs at once: no token exists that a cache must verify.
 */
export function rotationPlan(
  keys: readonly KeyDates[],
  at: number,
  publishAheadMs: number,
  longestTokenMs: number,
): RotationPlan {
  const activateAt = needsInitialKey(keys, at) ? at : at + publishAheadMs;
  return {
    next: { publishAt: at, activateAt },
    retire: keys
      .filter((k) => k.retireAt === null)
      .map((k) => {
        // A key still waiting to sign past the new key's start (JWT_KEY_PUBLISH_AHEAD was shortened since)
        // retires the moment it would have begun: it never signs.
        const retireAt = Math.max(k.activateAt, activateAt);
        return { kid: k.kid, retireAt, expireAt: retireAt + longestTokenMs };
      }),
  };
}
