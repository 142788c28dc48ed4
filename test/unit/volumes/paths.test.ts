import { checkEntryPath, linkStaysInside } from '../../../src/volumes';
import { InvalidInputError } from '../../../src/errors';

describe('checkEntryPath', () => {
  it('accepts relative paths and splits them', () => {
    expect(checkEntryPath('a')).toEqual(['a']);
    expect(checkEntryPath('a/b.txt')).toEqual(['a', 'b.txt']);
    expect(checkEntryPath('..a/b..')).toEqual(['..a', 'b..']);
  });

  it.each([
    '',
    '/etc/passwd',
    '..',
    '../x',
    'a/../../x',
    'a/..',
    './a',
    'a//b',
    'a/',
    'a\0b',
    'a\\..\\b',
  ])('refuses %j', (path) => {
    expect(() => checkEntryPath(path)).toThrow(InvalidInputError);
  });
});

describe('linkStaysInside', () => {
  it.each([
    ['a', 'b'],
    ['d/a', '../b'],
    ['d/e/a', '../../b'],
    ['d/a', '..'],
    ['d/a', './x/./y'],
    ['a', 'd'],
  ])('%s -> %s stays inside', (link, target) => {
    expect(linkStaysInside(link, target)).toBe(true);
  });

  it.each([
    ['a', '/etc/passwd'],
    ['a', '..'],
    ['a', '../b'],
    ['d/a', '../../b'],
    ['d/a', 'x/../../../b'],
    ['a', ''],
    // Chains: with `d -> .`, `d/..` is the volume's parent; a '..' after a name never qualifies.
    ['l', 'd/..'],
    ['l', 'd/../x'],
    ['d/a', './x/../y'],
  ])('%s -> %s does not', (link, target) => {
    expect(linkStaysInside(link, target)).toBe(false);
  });
});
