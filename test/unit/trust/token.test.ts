import { randomBytes } from 'node:crypto';
import { InvalidInputError } from '../../../src/errors';
import { base32Decode, base32Encode } from '../../../src/trust/base32';
import { formatToken, parseToken } from '../../../src/trust/token';

const token = {
  caFingerprint: randomBytes(32),
  id: 'abcde234',
  secret: randomBytes(32),
};

function errorOf(text: string): string {
  try {
    parseToken(text);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    return (err as Error).message;
  }
  throw new Error('parsed');
}

describe('base32', () => {
  it.each([
    ['', ''],
    ['f', 'my'],
    ['fo', 'mzxq'],
    ['foo', 'mzxw6'],
    ['foob', 'mzxw6yq'],
    ['fooba', 'mzxw6ytb'],
    ['foobar', 'mzxw6ytboi'],
  ])('encodes %j as RFC 4648 (lowercase, unpadded) %j', (plain, encoded) => {
    expect(base32Encode(Buffer.from(plain))).toBe(encoded);
    expect(base32Decode(encoded).toString()).toBe(plain);
  });
});

describe('join token', () => {
  it('formats as BGT1.<cluster>.<id>.<secret> and parses back', () => {
    const text = formatToken(token);
    expect(text).toMatch(/^BGT1\.[a-z2-7]{52}\.[a-z2-7]{8}\.[a-z2-7]{52}$/);
    expect(parseToken(`  ${text}\n`)).toEqual(token);
  });

  it('names the expected shape when the parts are wrong', () => {
    expect(errorOf('hello')).toBe(
      'token: expected BGT1.<cluster>.<id>.<secret> (4 parts separated by "."), got 1 part',
    );
    expect(errorOf('a.b.c')).toMatch(/got 3 parts$/);
  });

  it('refuses another prefix', () => {
    const [, ...rest] = formatToken(token).split('.');
    expect(errorOf(['K10', ...rest].join('.'))).toBe(
      'token: expected it to start with "BGT1." (BGT1.<cluster>.<id>.<secret>), got "K10"',
    );
  });

  it('names the bad part and what it should be', () => {
    const [prefix, ca, id, secret] = formatToken(token).split('.');
    expect(errorOf([prefix, ca!.slice(1), id, secret].join('.'))).toBe(
      'token: cluster fingerprint: expected 52 base32 characters (a-z, 2-7), got 51 characters',
    );
    expect(errorOf([prefix, ca, 'ABCDE234', secret].join('.'))).toBe(
      'token: id: expected 8 base32 characters (a-z, 2-7), got characters outside a-z and 2-7',
    );
    expect(errorOf([prefix, ca, id, `${secret!}a`].join('.'))).toMatch(
      /^token: secret: expected 52 base32 characters/,
    );
  });

  it('never echoes the secret in an error', () => {
    const [prefix, ca, id, secret] = formatToken(token).split('.');
    const broken = `${secret!.slice(0, 51)}1`;
    expect(errorOf([prefix, ca, id, broken].join('.'))).not.toContain(broken.slice(0, 10));
  });
});
