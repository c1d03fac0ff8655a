/**
 * A bounded cache of verified opaque credentials (API keys, key:token pairs, IAM tokens), keyed by the
 * credential's hash. Entries live at most `ttlMs`, so a change made by another instance is seen within
 * that time even without Redis; changes made here invalidate at once. When full, the oldest entry goes.
 */
export class CredentialCache<T extends { userId: string }> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly ttlMs = 1_000,
  ) {}

  get(hash: string): T | undefined {
    const e = this.entries.get(hash);
    if (!e) return undefined;
    if (e.until <= Date.now()) {
      this.entries.delete(hash);
      return undefined;
    }
    return e.value;
  }

  set(hash: string, value: T, notAfter?: number): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    const until = Math.min(Date.now() + this.ttlMs, notAfter ?? Infinity);
    this.entries.set(hash, { value, until });
  }

  delete(hash: string): void {
    this.entries.delete(hash);
  }

  deleteUser(userId: string): void {
    for (const [k, e] of this.entries) if (e.value.userId === userId) this.entries.delete(k);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
