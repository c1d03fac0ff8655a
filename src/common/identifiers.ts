import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, MaxLength, MinLength, ValidateBy, ValidationOptions } from 'class-validator';

/**
 * Characters that no email address or login identifier may hold, because they are invisible or change
 * how the text around them is shown, so that two different strings would look the same (API.md
 * section 0): control (Cc) and format (Cf) characters, among them zero-width spaces and joiners, the
 * soft hyphen, bidirectional controls and tags; lone surrogates (Cs), private-use (Co) and unassigned
 * (Cn) code points, whose NFKC form is not stable; line and paragraph separators; and every other
 * default-ignorable code point (variation selectors, the combining grapheme joiner, Hangul fillers).
 * The Braille blank is added by hand: it is a symbol, yet shows as nothing.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u2800]/u;

/** Only Unicode white space: String.prototype.trim also drops U+FEFF, which must be refused, not hidden. */
const EDGE_SPACE = /^\p{White_Space}+|\p{White_Space}+$/gu;

/**
 * The one normalisation of email addresses and login identifiers, used by the DTOs (through
 * `toIdentifier`), by every lookup and write of an address, by the rate-limit trackers and by the
 * migration that folded the stored addresses: Unicode NFKC (fullwidth letters, ligatures and
 * decomposed accents become their usual form), lower-cased (locale-independent), NFKC again (lower-casing
 * may leave a sequence that composes), and trimmed of white space. Idempotent.
 */
export function normalizeIdentifier(value: string): string {
  return value.normalize('NFKC').toLowerCase().normalize('NFKC').replace(EDGE_SPACE, '');
}

/** Emails are identifiers: the same normalisation, under the name the call sites read best with. */
export const normalizeEmail = normalizeIdentifier;

/** Whether the text (as given, or once normalised) holds a character of `INVISIBLE`. */
export function hasInvisibleCharacters(value: string): boolean {
  return INVISIBLE.test(value) || INVISIBLE.test(normalizeIdentifier(value));
}

export const invisibleCharactersMessage = (field: string): string =>
  `${field} must not contain invisible or formatting characters`;

/** For `@Transform` on DTO fields that hold an email address or a login identifier. */
export const toIdentifier = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? normalizeIdentifier(value) : value;

/**
 * Refuses strings with invisible or formatting characters; other types are left to the type check.
 * Place it under the type check and above the format check (`IsEmail` accepts zero-width spaces), so
 * that its message is the one shown.
 */
export function NoInvisibleCharacters(field: string, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'noInvisibleCharacters',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || !hasInvisibleCharacters(value),
        defaultMessage: () => invisibleCharactersMessage(field),
      },
    },
    options,
  );
}

/**
 * An optional login identifier (an email or a username): normalised, then a string of 1-320 characters with
 * no invisible ones. Listed bottom-up, as the decorators would stand above the property.
 */
export const OptionalIdentifier = (field: string): PropertyDecorator =>
  applyDecorators(
    MaxLength(320),
    MinLength(1),
    NoInvisibleCharacters(field),
    IsString(),
    Transform(toIdentifier),
    IsOptional(),
  );

/**
 * The scripts told apart by the single-script test below. Common and Inherited characters (digits, dots,
 * hyphens, combining marks) belong to every script and are left out, as UTS #39 section 5.1 does.
 */
const SCRIPTS: [string, RegExp][] = [
  'Latin',
  'Cyrillic',
  'Greek',
  'Armenian',
  'Georgian',
  'Cherokee',
  'Hebrew',
  'Arabic',
  'Devanagari',
  'Bengali',
  'Thai',
  'Han',
  'Hiragana',
  'Katakana',
  'Hangul',
  'Bopomofo',
].map((name) => [name, new RegExp(`\\p{Script_Extensions=${name}}`, 'u')]);
const COMMON_OR_INHERITED = /[\p{Script=Common}\p{Script=Inherited}]/u;

/** Scripts that are written together (UTS #39's Han with Hiragana and Katakana, with Hangul, with Bopomofo). */
const WRITTEN_TOGETHER: string[][] = [
  ['Han', 'Hiragana', 'Katakana'],
  ['Han', 'Hangul'],
  ['Han', 'Bopomofo'],
];

/**
 * Whether a text mixes scripts, after UTS #39's "single script" test over the resolved script set: each
 * character narrows the set of scripts the whole could be written in (by its Script_Extensions); an empty
 * set means mixed. `pаt` with a Cyrillic `а` is Latin and Cyrillic: mixed. Scripts outside the list
 * count as one "other" script each.
 */
export function mixesScripts(text: string): boolean {
  let resolved = null as Set<string> | null;
  for (const ch of text) {
    if (COMMON_OR_INHERITED.test(ch)) continue;
    const own = new Set(SCRIPTS.filter(([, re]) => re.test(ch)).map(([name]) => name));
    if (own.size === 0) own.add(`other:${ch.codePointAt(0)! >> 7}`);
    // Japanese and Korean text: a kana or hangul character also accepts Han, so the set stays non-empty.
    for (const group of WRITTEN_TOGETHER) if (group.some((g) => own.has(g))) group.forEach((g) => own.add(g));
    resolved = resolved === null ? own : new Set([...resolved].filter((s: string) => own.has(s)));
    if (resolved.size === 0) return true;
  }
  return false;
}

/** An address whose local part mixes scripts (Latin with Cyrillic or Greek, ...) is refused (API.md 12). */
export function hasMixedScriptLocalPart(email: string): boolean {
  const at = email.lastIndexOf('@');
  return mixesScripts(at < 0 ? email : email.slice(0, at));
}

export const mixedScriptMessage = (field: string): string =>
  `${field} must not mix alphabets (such as Latin with Cyrillic or Greek look-alike letters)`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a path parameter can name a row at all (anything else is a 404 without a query). */
export const isUuid = (value: string): boolean => UUID.test(value);
