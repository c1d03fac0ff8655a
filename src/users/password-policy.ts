import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let common: Set<string> | undefined;

/** The bundled list of passwords that people choose most often (lower-cased, one per line). */
function commonPasswords(): Set<string> {
  common ??= new Set(
    readFileSync(join(__dirname, 'common-passwords.txt'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean),
  );
  return common;
}

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

/**
 * The password rules of API.md section 0. Returns what is missing, in words a user can act on;
 * an empty list means the password is acceptable.
 */
export function passwordProblems(
  password: unknown,
  context: { email?: string | null; username?: string | null } = {},
): string[] {
  if (typeof password !== 'string') return ['must be a string'];
  const problems: string[] = [];
  const length = [...password].length;
  if (length < PASSWORD_MIN) problems.push(`must be at least ${PASSWORD_MIN} characters long`);
  if (length > PASSWORD_MAX) problems.push(`must be at most ${PASSWORD_MAX} characters long`);
  if (!/\p{Ll}/u.test(password)) problems.push('must contain a lower-case letter');
  if (!/\p{Lu}/u.test(password)) problems.push('must contain an upper-case letter');
  if (!/\p{Nd}/u.test(password)) problems.push('must contain a digit');
  if (problems.length === 0) {
    const lower = password.toLowerCase();
    const local = context.email?.split('@')[0]?.toLowerCase();
    if (commonPasswords().has(lower)) problems.push('is too common; choose a less predictable password');
    else if (
      (local && local.length >= 4 && lower.includes(local)) ||
      (context.username && lower.includes(context.username.toLowerCase()))
    ) {
      problems.push('must not contain your email address or username');
    }
  }
  return problems;
}

/** One sentence for the surfaces that answer with a single message. */
export function describePasswordProblems(problems: string[]): string {
  return `Password ${problems.join(', ')}`;
}
