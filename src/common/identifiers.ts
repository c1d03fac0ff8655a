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
