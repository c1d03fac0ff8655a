const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration written like `15m`, `24h`, `14d` (or `500ms`, `30s`) into milliseconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(value.trim());
  if (!match) throw new Error(`"${value}" is not a duration (write it like 15m, 24h or 14d)`);
  const ms = Number(match[1]) * UNITS[match[2]];
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new Error(`"${value}" is not a positive duration`);
  return ms;
}
