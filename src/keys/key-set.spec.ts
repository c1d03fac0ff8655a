import {
  isPublishedAt,
  KeyDates,
  needsInitialKey,
  publishedAt,
  rotationDue,
  rotationPlan,
  signingKeyAt,
  stateAt,
} from './key-set';

const MIN = 60_000;
const DAY = 86_400_000;
const AHEAD = 10 * MIN;
const LONGEST = 30 * DAY;

/** A key as the rows hold it, made by a rotation at `at` (or the first key, which signs at once). */
const key = (kid: string, dates: Partial<KeyDates> & { publishAt: number }): KeyDates => ({
  kid,
  activateAt: dates.publishAt,
  retireAt: null,
  expireAt: null,
  ...dates,
});

/** The rows after applying a rotation plan, as the service's transaction writes them. */
function rotate(keys: KeyDates[], at: number, kid: string): KeyDates[] {
  const plan = rotationPlan(keys, at, AHEAD, LONGEST);
  const retired = keys.map((k) => {
    const r = plan.retire.find((x) => x.kid === k.kid);
    return r ? { ...k, retireAt: r.retireAt, expireAt: r.expireAt } : k;
  });
  return [...retired, { kid, ...plan.next, retireAt: null, expireAt: null }];
}

describe('the signing-key set at a moment T', () => {
  const t0 = Date.UTC(2026, 11, 1);

  it('makes the first key sign at once, and needs one only when nothing signs or will sign', () => {
    expect(needsInitialKey([], t0)).toBe(true);
    const keys = rotate([], t0, 'a');
    expect(keys).toEqual([{ kid: 'a', publishAt: t0, activateAt: t0, retireAt: null, expireAt: null }]);
    expect(signingKeyAt(keys, t0)?.kid).toBe('a');
    expect(needsInitialKey(keys, t0)).toBe(false);
    // Every key retired long ago (HS256 for a while, say): a fresh first key again.
    const old = [key('z', { publishAt: t0 - 90 * DAY, retireAt: t0 - 60 * DAY, expireAt: t0 - 30 * DAY })];
    expect(needsInitialKey(old, t0)).toBe(true);
    expect(rotationPlan(old, t0, AHEAD, LONGEST).next).toEqual({ publishAt: t0, activateAt: t0 });
  });

  it('publishes a rotated key at once, signs with it from T + the lead, and retires the old key then', () => {
    const t1 = t0 + 30 * DAY;
    const keys = rotate(rotate([], t0, 'a'), t1, 'b');
    const [a, b] = keys;
    expect(b).toMatchObject({ publishAt: t1, activateAt: t1 + AHEAD });
    expect(a).toMatchObject({ retireAt: t1 + AHEAD, expireAt: t1 + AHEAD + LONGEST });
    expect(signingKeyAt(keys, t1)?.kid).toBe('a');
    expect(signingKeyAt(keys, t1 + AHEAD - 1)?.kid).toBe('a');
    expect(signingKeyAt(keys, t1 + AHEAD)?.kid).toBe('b');
    expect(signingKeyAt(keys, t1 + 365 * DAY)?.kid).toBe('b');
    expect(stateAt(b, keys, t1)).toBe('pending');
    expect(stateAt(a, keys, t1)).toBe('active');
    expect(stateAt(a, keys, t1 + AHEAD)).toBe('retired');
    expect(stateAt(b, keys, t1 + AHEAD)).toBe('active');
    expect(stateAt(a, keys, t1 + AHEAD + LONGEST)).toBe('expired');
  });

  it('holds in the JWKS every key published and not expired, the newest first', () => {
    const t1 = t0 + 30 * DAY;
    const keys = rotate(rotate([], t0, 'a'), t1, 'b');
    const kids = (at: number) => publishedAt(keys, at).map((k) => k.kid);
    expect(kids(t0)).toEqual(['a']);
    expect(kids(t1 - 1)).toEqual(['a']);
    // Published before it signs, so that caches of the JWKS hold it before its first token.
    expect(kids(t1)).toEqual(['b', 'a']);
    // The old key stays while a token it signed may still be alive.
    expect(kids(t1 + AHEAD + LONGEST - 1)).toEqual(['b', 'a']);
    expect(kids(t1 + AHEAD + LONGEST)).toEqual(['b']);
    expect(isPublishedAt(keys[0], t1 + AHEAD + LONGEST)).toBe(false);
  });

  it('always has a key that is published at the moment it signs', () => {
    let keys = rotate([], t0, 'k0');
    for (let i = 1; i <= 5; i++) keys = rotate(keys, t0 + i * 7 * DAY, `k${i}`);
    for (let at = t0; at < t0 + 60 * DAY; at += 37 * MIN) {
      const signer = signingKeyAt(keys, at);
      expect(signer && isPublishedAt(signer, at)).toBe(true);
    }
  });

  it('gives one answer for two rotations in quick succession: the waiting key never signs past the newer', () => {
    const t1 = t0 + DAY;
    const keys = rotate(rotate(rotate([], t0, 'a'), t1, 'b'), t1 + MIN, 'c');
    expect(signingKeyAt(keys, t1 + AHEAD - 1)?.kid).toBe('a');
    expect(signingKeyAt(keys, t1 + AHEAD)?.kid).toBe('b');
    expect(signingKeyAt(keys, t1 + MIN + AHEAD)?.kid).toBe('c');
    expect(keys.find((k) => k.kid === 'b')).toMatchObject({ retireAt: t1 + MIN + AHEAD });
  });

  it('retires a waiting key that would start after the new one (a shortened lead) before it ever signs', () => {
    const t1 = t0 + DAY;
    const waiting = rotate(rotate([], t0, 'a'), t1, 'b');
    // The next rotation comes with a lead of 1 s, while b still waits for its 10 minutes.
    const plan = rotationPlan(waiting, t1 + MIN, 1000, LONGEST);
    const b = plan.retire.find((r) => r.kid === 'b')!;
    expect(b.retireAt).toBe(t1 + AHEAD);
    const keys = waiting.map((k) => {
      const r = plan.retire.find((x) => x.kid === k.kid);
      return r ? { ...k, retireAt: r.retireAt, expireAt: r.expireAt } : k;
    });
    keys.push({ kid: 'c', ...plan.next, retireAt: null, expireAt: null });
    for (const at of [t1 + MIN + 1000, t1 + AHEAD, t1 + AHEAD + 1, t1 + 2 * DAY]) {
      expect(signingKeyAt(keys, at)?.kid).toBe('c');
    }
  });

  it('is due for a scheduled rotation when the newest key has signed for the rotation period', () => {
    const keys = rotate([], t0, 'a');
    expect(rotationDue(keys, t0 + 30 * DAY - 1, 30 * DAY)).toBe(false);
    expect(rotationDue(keys, t0 + 30 * DAY, 30 * DAY)).toBe(true);
    expect(rotationDue(keys, t0 + 365 * DAY, null)).toBe(false);
    expect(rotationDue([], t0, 30 * DAY)).toBe(false);
    // Once rotated, the clock starts again from when the new key signs: the other instance's check agrees.
    const after = rotate(keys, t0 + 30 * DAY, 'b');
    expect(rotationDue(after, t0 + 30 * DAY, 30 * DAY)).toBe(false);
    expect(rotationDue(after, t0 + 60 * DAY + AHEAD, 30 * DAY)).toBe(true);
  });

  it('calls a key scheduled before its publication', () => {
    const k = key('s', { publishAt: t0 + MIN, activateAt: t0 + 2 * MIN });
    expect(stateAt(k, [k], t0)).toBe('scheduled');
    expect(isPublishedAt(k, t0)).toBe(false);
  });
});
