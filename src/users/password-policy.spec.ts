import { describePasswordProblems, passwordProblems } from './password-policy';

describe('password policy', () => {
  it('accepts a password with the three classes that is not common', () => {
    expect(passwordProblems('Tangerine-Harbor-42')).toEqual([]);
  });

  it('says exactly what is missing', () => {
    expect(passwordProblems('short1A')).toEqual(['must be at least 8 characters long']);
    expect(passwordProblems('alllowercase1')).toEqual(['must contain an upper-case letter']);
    expect(passwordProblems('ALLUPPERCASE1')).toEqual(['must contain a lower-case letter']);
    expect(passwordProblems('NoDigitsHere')).toEqual(['must contain a digit']);
    expect(passwordProblems('abc')).toEqual([
      'must be at least 8 characters long',
      'must contain an upper-case letter',
      'must contain a digit',
    ]);
  });

  it('refuses more than 128 characters', () => {
    expect(passwordProblems('Aa1' + 'x'.repeat(126))).toEqual(['must be at most 128 characters long']);
    expect(passwordProblems('Aa1' + 'x'.repeat(125))).toEqual([]);
  });

  it('counts characters, not UTF-16 units', () => {
    expect(passwordProblems('Ää1ßéèêë')).toEqual([]);
    expect(passwordProblems('Aa1😀😀😀')).toEqual(['must be at least 8 characters long']);
  });

  it.each(['Password1', 'Passw0rd', 'Welcome1', 'Qwerty123', 'Summer2024', 'P@ssw0rd'])(
    'refuses the common password %s whatever its case',
    (pw) => expect(passwordProblems(pw)).toEqual(['is too common; choose a less predictable password']),
  );

  it('refuses a password built on the email address', () => {
    expect(passwordProblems('Margaret2025x', { email: 'margaret@example.org' })).toEqual([
      'must not contain your email address or username',
    ]);
  });

  it('refuses what is not a string', () => {
    expect(passwordProblems(12345678)).toEqual(['must be a string']);
    expect(passwordProblems(null)).toEqual(['must be a string']);
  });

  it('words the problems as one sentence', () => {
    expect(describePasswordProblems(['must contain a digit', 'must contain an upper-case letter'])).toBe(
      'Password must contain a digit, must contain an upper-case letter',
    );
  });
});
