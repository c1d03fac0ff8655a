/** Deeper than any real body; deep enough that recursive walkers (validation, jsonb) cannot overflow. */
export const MAX_BODY_DEPTH = 64;

/** The nesting depth of a parsed JSON value, measured without recursion. */
export function exceedsDepth(value: unknown, max = MAX_BODY_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v as object)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
