import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BundleError, MAX_BUNDLE_BYTES, parseBundle } from '../../../src/bundle';
import { FIXTURES } from './fixtures';

/** Runs the parser and returns its BundleError, with how long it took. */
function reject(text: string): { err: BundleError; ms: number } {
  const start = performance.now();
  let thrown: unknown;
  try {
    parseBundle(text, 'x.bun');
  } catch (e) {
    thrown = e;
  }
  const ms = performance.now() - start;
  if (!(thrown instanceof BundleError))
    throw new Error(`expected a BundleError, got ${String(thrown)}`);
  return { err: thrown, ms };
}

/** Nine levels of nine aliases each: a billion strings if anything ever expanded it. */
function billionLaughs(levels: number): string {
  const lines = [
    'version: "1.0"',
    'name: lol',
    'image: {docker_image: lol}',
    'x0: &a0 ["lol","lol"]',
  ];
  for (let i = 1; i <= levels; i++) {
    lines.push(
      `x${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(',')}]`,
    );
  }
  return `${lines.join('\n')}\n`;
}

describe('hostile input is refused quickly and clearly', () => {
  it('rejects the billion-laughs fixture without expanding it', () => {
    const { err, ms } = reject(readFileSync(join(FIXTURES, 'invalid/billion-laughs.bun'), 'utf8'));
    expect(err.message).toContain('x.bun:2:8: b[0]: aliases (*a) are not supported');
    expect(ms).toBeLessThan(1000);
  });

  it('rejects a deeper alias bomb with one alias message', () => {
    const { err, ms } = reject(billionLaughs(30));
    expect(err.problems.filter((p) => p.message.startsWith('aliases'))).toEqual([
      expect.objectContaining({ line: 5, column: 10, path: 'x1[0]' }),
    ]);
    expect(ms).toBeLessThan(1000);
  });

  it('refuses a file over 256 KiB before parsing it', () => {
    const text = `name: a\n# ${'x'.repeat(MAX_BUNDLE_BYTES)}\n`;
    const { err, ms } = reject(text);
    expect(err.message).toMatch(
      /^x\.bun:1:1: file too large \(\d+ bytes; a \.bun is at most 256 KiB\)$/,
    );
    expect(ms).toBeLessThan(1000);
  });

  it.each([
    ['a NUL byte', 'name: a\u0000b\n', 'x.bun:1:8: not a text file (control byte 0x00)'],
    [
      'an escape byte',
      'version: "1.0"\n\u001b[31m',
      'x.bun:2:1: not a text file (control byte 0x1b)',
    ],
  ])('refuses binary data (%s)', (_, text, expected) => {
    expect(reject(text).err.message).toBe(expected);
  });

  it.each([
    ['an empty string', ''],
    ['only blanks', '  \n\n'],
    ['only a comment', '# nothing\n'],
  ])('calls %s an empty file', (_, text) => {
    expect(reject(text).err.message).toBe(
      'x.bun:1:1: the file is empty; expected a mapping with version, name and image',
    );
  });

  it.each([
    ['a list', '- a\n', 'a list'],
    ['a string', 'hello\n', '"hello"'],
    ['a number', '42\n', '42'],
  ])('refuses %s at the top level', (_, text, got) => {
    expect(reject(text).err.message).toBe(
      `x.bun:1:1: expected a mapping with version, name and image, got ${got}`,
    );
  });

  it.each([
    ['[', ']'],
    ['{', '}'],
    ['{a: ', '}'],
  ])(
    'refuses the largest file of %s nesting before the YAML parser recurses into it',
    (open, close) => {
      const depth = Math.floor((MAX_BUNDLE_BYTES - 100) / (open.length + close.length));
      const { err, ms } = reject(`version: ${open.repeat(depth)}${close.repeat(depth)}\n`);
      expect(err.message).toBe(
        `x.bun:1:${10 + 64 * open.length}: nested too deeply (more than 64 [ or { open)`,
      );
      expect(ms).toBeLessThan(1000);
    },
  );

  it.each([
    ['compact lists', '- '],
    ['tags', '!t '],
  ])('refuses the largest file of nested %s quickly enough', (_, unit) => {
    const { err, ms } = reject(
      `a: ${unit.repeat(Math.floor((MAX_BUNDLE_BYTES - 10) / unit.length))}x\n`,
    );
    expect(err.message).toMatch(/^x\.bun:1:\d+: invalid YAML: /);
    expect(ms).toBeLessThan(5000);
  });

  it('refuses nesting deeper than a .bun needs by its own limit', () => {
    const list = `${'- '.repeat(3)}x`;
    const lines = Array.from({ length: 20 }, (_, i) => `${'  '.repeat(i)}- `).join('\n');
    expect(reject(`command:\n${lines}${list}\n`).err.message).toContain(
      'nested more than 16 levels deep',
    );
  });

  it('names the line and column of a YAML syntax error', () => {
    expect(reject('version: "1.0"\nname: a: b\n').err.message).toBe(
      'x.bun:2:7: invalid YAML: Nested mappings are not allowed in compact mappings',
    );
  });

  it('keeps a key named __proto__ as an unknown field, not a prototype', () => {
    const { err } = reject(
      'version: "1.0"\nname: a\nimage: {docker_image: a}\n__proto__: {name: b}\n',
    );
    expect(err.message).toBe(
      'x.bun:4:1: __proto__: unknown field (expected one of version, name, ' +
        'image, ports, volumes, environment, healthcheck, replicas, command, entrypoint, workdir, ' +
        'hostname, restart, stop_timeout)',
    );
  });

  it('lists at most 50 problems in the message but keeps them all', () => {
    const ports = Array.from({ length: 80 }, () => '  - {container_port: 0, host_port: 1}').join(
      '\n',
    );
    const { err } = reject(`version: "1.0"\nname: a\nimage: {docker_image: a}\nports:\n${ports}\n`);
    expect(err.problems).toHaveLength(80);
    const lines = err.message.split('\n');
    expect(lines).toHaveLength(51);
    expect(lines[50]).toBe('… and 30 more problems');
  });

  it('refuses tagged binary scalars', () => {
    const { err } = reject(
      'version: "1.0"\nname: a\nimage: {docker_image: a}\ncommand: [!!binary aGk=]\n',
    );
    expect(err.message).toBe('x.bun:4:20: command[0]: expected a plain string, number or boolean');
  });
});
