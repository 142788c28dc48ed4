import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { indexTar } from '../../../../src/archive/tar-index';
import { InvalidInputError } from '../../../../src/errors';
import { FIXED_MTIME, tarBytes, type TarEntry } from '../../../../src/tools/imagebuild/tar-writer';
import { readTar } from './read-tar';

describe('tar writer', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'budgie-tar-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const longName = `deep/${'d'.repeat(120)}/file-with-a-long-name.txt`;
  const entries: TarEntry[] = [
    { type: 'dir', path: 'bin' },
    { type: 'file', path: 'bin/tool', content: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
    { type: 'symlink', path: 'bin/sh', target: 'tool' },
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'file', path: 'empty', content: Buffer.alloc(0) },
    { type: 'file', path: 'block', content: Buffer.alloc(512, 7) },
    { type: 'file', path: longName, content: Buffer.from('long') },
    { type: 'symlink', path: 'far', target: `/${'t'.repeat(150)}` },
    { type: 'file', path: 'naïve-café', content: Buffer.from('utf8') },
  ];

  it('writes ustar headers a reader gets back: types, modes, root owner, fixed mtime', () => {
    const read = readTar(tarBytes(entries));
    expect(read.map((e) => [e.path, e.type, e.mode.toString(8), e.linkname])).toEqual([
      ['bin/', '5', '755', ''],
      ['bin/tool', '0', '755', ''],
      ['bin/sh', '2', '777', 'tool'],
      ['tmp/', '5', '1777', ''],
      ['empty', '0', '644', ''],
      ['block', '0', '644', ''],
      [longName, '0', '644', ''],
      ['far', '2', '777', `/${'t'.repeat(150)}`],
      ['naïve-café', '0', '644', ''],
    ]);
    for (const e of read) {
      expect([e.uid, e.gid, e.mtime, e.uname]).toEqual([0, 0, FIXED_MTIME, 'root']);
    }
    expect(read[1]!.content.toString()).toBe('#!/bin/sh\necho hi\n');
    expect(read[5]!.content).toEqual(Buffer.alloc(512, 7));
  });

  it('pads to whole blocks and is byte-for-byte the same on every call', () => {
    const a = tarBytes(entries);
    expect(a.length % 512).toBe(0);
    expect(tarBytes(entries).equals(a)).toBe(true);
    expect(tarBytes([])).toEqual(Buffer.alloc(1024));
  });

  it('is read the same way by GNU tar and by the archive index', async () => {
    const path = join(dir, 'long.tar');
    await writeFile(path, tarBytes(entries));
    const listing = execFileSync('tar', ['-tvf', path], { encoding: 'utf8' });
    expect(listing).toContain(`-rw-r--r-- root/root         4 2024-01-01 00:00 ${longName}`);
    expect(listing).toContain('drwxrwxrwt root/root         0 2024-01-01 00:00 tmp/');
    expect(listing).toContain('bin/sh -> tool');
    expect(listing).toContain(`far -> /${'t'.repeat(150)}`);
    const index = await indexTar(path);
    expect(index.get(longName)).toEqual({ offset: expect.any(Number), size: 4 });
    expect(index.get('naïve-café')?.size).toBe(4);
  });

  it('refuses absolute and empty paths', () => {
    expect(() => tarBytes([{ type: 'dir', path: '/etc' }])).toThrow(InvalidInputError);
    expect(() => tarBytes([{ type: 'dir', path: '' }])).toThrow(InvalidInputError);
  });
});
