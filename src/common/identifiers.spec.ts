import { plainToInstance } from 'class-transformer';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, validateSync } from 'class-validator';
import fc from 'fast-check';
import { hasInvisibleCharacters, NoInvisibleCharacters, normalizeIdentifier, toIdentifier } from './identifiers';
import { hasMixedScriptLocalPart, mixesScripts } from './identifiers';

class Probe {
  @Transform(toIdentifier)
  @IsString()
  @NoInvisibleCharacters('email')
  @IsEmail()
  email!: string;
}

const check = (email: unknown) => {
  const dto = plainToInstance(Probe, { email });
  return {
    value: dto.email,
    errors: validateSync(dto)
      .map((e) => Object.values(e.constraints ?? {}))
      .flat(),
  };
};

describe('normalizeIdentifier', () => {
  it('folds addresses that look alike to one form', () => {
    expect(normalizeIdentifier('ｄoc1@example.com')).toBe('doc1@example.com');
    expect(normalizeIdentifier('  Doc1＠Example.COM\t')).toBe('doc1@example.com');
    expect(normalizeIdentifier('do\u0301c@example.com')).toBe(normalizeIdentifier('dóc@example.com'));
    expect(normalizeIdentifier('ﬁle@example.com')).toBe('file@example.com');
    expect(normalizeIdentifier('ÉMILE@EXAMPLE.COM')).toBe('émile@example.com');
  });

  it('is idempotent, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
        const once = normalizeIdentifier(s);
        expect(normalizeIdentifier(once)).toBe(once);
      }),
      { numRuns: 5000 },
    );
  });

  it('keeps U+FEFF at the edges (String.prototype.trim would hide it) so that it is refused', () => {
    expect(normalizeIdentifier('\uFEFFdoc@example.com')).toBe('\uFEFFdoc@example.com');
  });
});

describe('hasInvisibleCharacters', () => {
  it.each([
    ['zero-width space', 'doc1\u200b@example.com'],
    ['zero-width joiner', 'do\u200dc@example.com'],
    ['zero-width non-joiner', 'do\u200cc@example.com'],
    ['word joiner', 'doc\u2060@example.com'],
    ['byte order mark', '\uFEFFdoc@example.com'],
    ['soft hyphen', 'do\u00adc@example.com'],
    ['right-to-left override', 'doc\u202e@example.com'],
    ['left-to-right isolate', 'doc\u2066@example.com'],
    ['right-to-left mark', 'doc\u200f@example.com'],
    ['Arabic letter mark', 'doc\u061c@example.com'],
    ['Mongolian vowel separator', 'doc\u180e@example.com'],
    ['tag character', 'doc\u{E0041}@example.com'],
    ['variation selector', 'doc\ufe0f@example.com'],
    ['combining grapheme joiner', 'doc\u034f@example.com'],
    ['Hangul filler', 'doc\u3164@example.com'],
    ['Braille blank', 'doc\u2800@example.com'],
    ['line separator', 'doc\u2028@example.com'],
    ['NUL', 'doc\u0000@example.com'],
    ['escape', 'doc\u001b@example.com'],
    ['DEL', 'doc\u007f@example.com'],
    ['lone surrogate', 'doc\ud800@example.com'],
    ['private use', 'doc\ue000@example.com'],
    ['unassigned', 'doc\u{50000}@example.com'],
  ])('finds a %s', (_name, text) => {
    expect(hasInvisibleCharacters(text)).toBe(true);
  });

  it.each([
    'doc1@example.com',
    'dóc@example.com',
    'ｄoc1@example.com',
    'müller@bücher.example',
    'user.name+tag@example.org',
  ])('lets %s through', (text) => {
    expect(hasInvisibleCharacters(text)).toBe(false);
  });
});

describe('toIdentifier with NoInvisibleCharacters on a DTO', () => {
  it('hands the service the normalised address', () => {
    expect(check(' ｄoc1@Example.com ')).toEqual({ value: 'doc1@example.com', errors: [] });
  });

  it('refuses an address with a zero-width space, which IsEmail alone accepts', () => {
    const { errors } = check('doc1\u200b@example.com');
    expect(errors).toContain('email must not contain invisible or formatting characters');
  });

  it('leaves other types to the type check', () => {
    expect(check(42).errors).not.toContain('email must not contain invisible or formatting characters');
  });
});

describe('mixesScripts (the single-script test of UTS #39, API.md 12)', () => {
  it.each(['pat', 'ivan.petrov-2', 'pàt', 'иван', 'δοκιμή', '山田たろう', '김철수', 'yamada', 'user+tag_1'])(
    'takes %s as written in one script',
    (text) => expect(mixesScripts(text)).toBe(false),
  );
  it.each(['p\u0430t', '\u03c0at', 'pay\u0440al', 'yamada山田', 'ivan\u0438'])('refuses %s as mixed', (text) =>
    expect(mixesScripts(text)).toBe(true),
  );
  it('looks at the local part of an address only', () => {
    expect(hasMixedScriptLocalPart('p\u0430t@example.org')).toBe(true);
    expect(hasMixedScriptLocalPart('pat@пример.рф')).toBe(false);
  });
});
