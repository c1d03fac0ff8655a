import { SecretBox } from './secret-box';

describe('SecretBox', () => {
  const sut = new SecretBox('a-server-secret-of-sufficient-length-0123456789', 'test');
  const plain = Buffer.from('JBSWY3DPEHPK3PXP');

  it('gives back what it sealed, for the row it was sealed for', () => {
    expect(sut.open(sut.seal(plain, 'row-1'), 'row-1')).toEqual(plain);
  });

  it('never seals the same secret to the same bytes twice (a fresh IV each time)', () => {
    expect(sut.seal(plain, 'row-1').equals(sut.seal(plain, 'row-1'))).toBe(false);
  });

  it('refuses a ciphertext moved to another row, changed by one bit, or sealed under another key or purpose', () => {
    const sealed = sut.seal(plain, 'row-1');
    expect(() => sut.open(sealed, 'row-2')).toThrow();
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1] ^= 1;
    expect(() => sut.open(flipped, 'row-1')).toThrow();
    expect(() =>
      new SecretBox('another-server-secret-of-sufficient-length-012', 'test').open(sealed, 'row-1'),
    ).toThrow();
    expect(() =>
      new SecretBox('a-server-secret-of-sufficient-length-0123456789', 'other').open(sealed, 'row-1'),
    ).toThrow();
  });

  it('refuses what is not a sealed secret', () => {
    expect(() => sut.open(Buffer.from('short'), 'row-1')).toThrow('not a sealed secret');
    expect(() => sut.open(plain, 'row-1')).toThrow();
  });
});
