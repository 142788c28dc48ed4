import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../../../src/errors';
import {
  VolumeEntryType,
  type SnapshotResponse,
  type VolumeEntry,
} from '../../../src/gen/budgie/peer/v1/peer';
import {
  CHUNK_BYTES,
  fromSnapshotResponse,
  readSnapshot,
  SnapshotWriter,
  toSnapshotResponse,
} from '../../../src/volumes';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'budgie-volumes-'));
});
afterEach(async () => {
  await chmod(join(dir, 'dst', 'ro'), 0o755).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

const T = 1_700_000_000_000;
const signal = new AbortController().signal;

/** The snapshot as a member sends it: the reader's items as wire messages. */
async function collect(source: string): Promise<SnapshotResponse[]> {
  const out: SnapshotResponse[] = [];
  for await (const item of readSnapshot(source, signal)) out.push(toSnapshotResponse(item));
  return out;
}

async function copy(messages: SnapshotResponse[], root: string) {
  const { writer, hadData } = await SnapshotWriter.open(root);
  try {
    // As the joining member takes them: checked at the wire edge, then written.
    for (const m of messages) {
      const item = fromSnapshotResponse(m);
      if (item !== undefined) await writer.write(item);
    }
    return { stats: await writer.finish(), hadData };
  } finally {
    await writer.close();
  }
}

function entry(
  path: string,
  type: VolumeEntryType,
  extra: Partial<VolumeEntry> = {},
): SnapshotResponse {
  return {
    item: {
      $case: 'entry',
      value: { path, type, mode: 0o644, mtimeUnixMs: T, size: 0, linkTarget: '', ...extra },
    },
  };
}
const data = (s: string | Buffer): SnapshotResponse => ({
  item: { $case: 'data', value: Buffer.from(s) },
});
const FILE = VolumeEntryType.VOLUME_ENTRY_TYPE_FILE;
const DIR = VolumeEntryType.VOLUME_ENTRY_TYPE_DIR;
const LINK = VolumeEntryType.VOLUME_ENTRY_TYPE_SYMLINK;

describe('readSnapshot + SnapshotWriter', () => {
  it('copies files, dirs and inside links with modes and mtimes, and nothing that leaves the root', async () => {
    const src = join(dir, 'src');
    await mkdir(join(src, 'sub', 'deep'), { recursive: true });
    await writeFile(join(src, 'a.txt'), 'hello');
    await chmod(join(src, 'a.txt'), 0o640);
    await writeFile(join(src, 'run.sh'), '#!/bin/sh\n');
    await chmod(join(src, 'run.sh'), 0o755);
    const big = Buffer.alloc(CHUNK_BYTES * 2 + 17, 7);
    await writeFile(join(src, 'sub', 'deep', 'big.bin'), big);
    await writeFile(join(src, 'empty'), '');
    await symlink('../a.txt', join(src, 'sub', 'to-a'));
    await symlink('/etc/passwd', join(src, 'escape-abs'));
    await symlink('../../outside', join(src, 'sub', 'escape-rel'));
    await mkdir(join(src, 'ro'));
    await chmod(join(src, 'ro'), 0o555);
    await utimes(join(src, 'a.txt'), T / 1000, T / 1000);
    await utimes(join(src, 'sub'), T / 1000, T / 1000);

    const messages = await collect(src);
    const paths = messages.flatMap((m) => (m.item?.$case === 'entry' ? [m.item.value.path] : []));
    expect(paths).toEqual([
      'a.txt',
      'empty',
      'ro',
      'run.sh',
      'sub',
      'sub/deep',
      'sub/deep/big.bin',
      'sub/to-a',
    ]);

    const dst = join(dir, 'dst');
    const { stats, hadData } = await copy(messages, dst);
    expect(hadData).toBe(false);
    expect(stats).toEqual({ files: 4, bytes: 5 + 10 + big.length, dirs: 3, symlinks: 1 });
    expect(await readFile(join(dst, 'a.txt'), 'utf8')).toBe('hello');
    expect((await stat(join(dst, 'a.txt'))).mode & 0o7777).toBe(0o640);
    expect((await stat(join(dst, 'run.sh'))).mode & 0o7777).toBe(0o755);
    expect((await stat(join(dst, 'a.txt'))).mtimeMs).toBe(T);
    expect((await stat(join(dst, 'sub'))).mtimeMs).toBe(T);
    expect((await stat(join(dst, 'ro'))).mode & 0o7777).toBe(0o555);
    expect(Buffer.compare(await readFile(join(dst, 'sub', 'deep', 'big.bin')), big)).toBe(0);
    expect(await readlink(join(dst, 'sub', 'to-a'))).toBe('../a.txt');
    await expect(lstat(join(dst, 'escape-abs'))).rejects.toThrow(/ENOENT/);
    // The temp dir beside the root is gone.
    expect((await readdir(dir)).sort()).toEqual(['dst', 'src']);
  });

  it('a missing source is an empty volume', async () => {
    expect(await collect(join(dir, 'nope'))).toEqual([]);
  });

  it('copies over existing data: files in the snapshot are replaced, others kept', async () => {
    const dst = join(dir, 'dst');
    await mkdir(dst);
    await writeFile(join(dst, 'keep'), 'mine');
    await writeFile(join(dst, 'a'), 'old old old');
    const { hadData } = await copy([entry('a', FILE, { size: 3 }), data('new')], dst);
    expect(hadData).toBe(true);
    expect(await readFile(join(dst, 'a'), 'utf8')).toBe('new');
    expect(await readFile(join(dst, 'keep'), 'utf8')).toBe('mine');
  });
});

describe('SnapshotWriter refuses', () => {
  it.each([
    ['an absolute path', [entry('/etc/x', FILE)]],
    ['a .. path', [entry('../x', FILE)]],
    ['a link out of the volume', [entry('l', LINK, { linkTarget: '../../etc' })]],
    ['an absolute link', [entry('l', LINK, { linkTarget: '/etc' })]],
    ['data without a file', [data('x')]],
    ['more bytes than announced', [entry('f', FILE, { size: 1 }), data('xy')]],
    ['a file cut short', [entry('f', FILE, { size: 5 }), data('xy')]],
    [
      'a file cut short by the next entry',
      [entry('f', FILE, { size: 5 }), data('xy'), entry('g', DIR)],
    ],
    ['an entry under a missing dir', [entry('d/f', FILE)]],
  ])('%s', async (_what, messages) => {
    await expect(copy(messages, join(dir, 'dst'))).rejects.toThrow(InvalidInputError);
    // Nothing half-written reached the volume, and the temp dir is gone.
    expect(await readdir(join(dir, 'dst'))).toEqual([]);
    expect(await readdir(dir)).toEqual(['dst']);
  });

  it('writing through a symlink already in the volume', async () => {
    const dst = join(dir, 'dst');
    const outside = join(dir, 'outside');
    await mkdir(dst);
    await mkdir(outside);
    await symlink(outside, join(dst, 'd'));
    await expect(copy([entry('d/f', FILE, { size: 1 }), data('x')], dst)).rejects.toThrow(
      InvalidInputError,
    );
    expect(await readdir(outside)).toEqual([]);
  });
});
