import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { constants, mkdtempSync, rmSync } from 'node:fs';
import {
  lstat,
  mkdir,
  mkdtemp,
  open,
  readFile,
  readdir,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { buildSync } from 'esbuild';
import { InvalidInputError } from '../../../src/errors';
import { Dir, FileJobs, type Meta, type SmallRead } from '../../../src/fs';
import type { PlaceItem } from '../../../src/fs/file-jobs';
import * as fileWork from '../../../src/fs/file-work';

/**
 * FileJobs on a real temp directory, on both runners: jobs run on this thread (inline) and on
 * worker threads (the worker built from src/fs/file-worker.ts with esbuild, as the build does).
 */

let workerDir: string;
let script: string;

beforeAll(() => {
  workerDir = mkdtempSync(join(tmpdir(), 'budgie-file-worker-'));
  script = join(workerDir, 'file-worker.js');
  buildSync({
    entryPoints: [join(__dirname, '../../../src/fs/file-worker.ts')],
    bundle: true,
    platform: 'node',
    outfile: script,
    logLevel: 'warning',
  });
});

afterAll(() => {
  rmSync(workerDir, { recursive: true, force: true });
});

const sha256 = (data: Uint8Array | string): string =>
  createHash('sha256').update(data).digest('hex');

/** The bytes of a read that must be a file. */
function bytesOf(read: SmallRead | undefined): Buffer {
  if (read?.kind !== 'file') throw new Error(`not a file read: ${JSON.stringify(read)}`);
  return Buffer.from(read.buffer, 0, read.length);
}

/** The metadata a caller would remember of `path` (for inspect's skipIf). */
async function metaOf(path: string): Promise<Meta> {
  const st = await lstat(path);
  return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, mode: st.mode };
}

/** Every name under `dir`, recursively, relative to it (symlinks listed, not followed). */
async function tree(dir: string, prefix = ''): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    names.push(prefix + entry.name);
    if (entry.isDirectory()) {
      names.push(...(await tree(join(dir, entry.name), `${prefix}${entry.name}/`)));
    }
  }
  return names.sort();
}

/** The error of a call that may throw at once or reject later; undefined when it succeeds. */
async function failureOf(call: () => Promise<unknown>): Promise<unknown> {
  let promise: Promise<unknown>;
  try {
    promise = call();
  } catch (err) {
    return err;
  }
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

/** Lets setImmediate callbacks (a batch of placeNew calls) and their jobs run. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Runner {
  make: () => FileJobs;
  /** A spy that counts the jobs the runner is handed (runJob inline, messages to a thread). */
  countJobs: () => jest.SpyInstance;
}

const RUNNERS: [string, Runner][] = [
  [
    'inline',
    {
      make: () => FileJobs.inline(),
      countJobs: () => jest.spyOn(fileWork, 'runJob'),
    },
  ],
  [
    'threads',
    {
      make: () => FileJobs.threads({ size: 2, script }),
      countJobs: () => jest.spyOn(Worker.prototype, 'postMessage'),
    },
  ],
];

describe.each(RUNNERS)('FileJobs (%s)', (_runner, { make, countJobs }) => {
  let jobs: FileJobs;
  let base: string;
  /** The root directory's path, and the same held open. */
  let top: string;
  let root: Dir;
  /** A directory beside the root, that nothing beneath the root may reach. */
  let outside: string;

  beforeAll(() => {
    jobs = make();
  });

  afterAll(async () => {
    await jobs.close();
  });

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'budgie-file-jobs-'));
    top = join(base, 'root');
    outside = join(base, 'outside');
    await mkdir(top);
    await mkdir(outside);
    root = await Dir.open(top);
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await root.close();
    await rm(base, { recursive: true, force: true });
  });

  describe('readFiles', () => {
    it('reads a regular file whole, with its metadata before and after', async () => {
      const data = randomBytes(5000);
      await writeFile(join(top, 'a.bin'), data);
      const st = await lstat(join(top, 'a.bin'));

      const [read] = await jobs.readFiles(root, [['a.bin']], 10_000);

      expect(bytesOf(read)).toEqual(data);
      expect(read).toMatchObject({
        kind: 'file',
        length: 5000,
        before: { kind: 'file', ino: st.ino, size: 5000, mtimeMs: st.mtimeMs },
        after: { kind: 'file', ino: st.ino, size: 5000, mtimeMs: st.mtimeMs },
      });
      // No algorithm named: nothing hashed.
      expect(read).not.toHaveProperty('digest');
    });

    it("hashes what it read with the algorithm named: the file's true SHA-256", async () => {
      const data = randomBytes(70_000);
      await writeFile(join(top, 'h.bin'), data);
      await writeFile(join(top, 'empty'), '');

      const [read, empty] = await jobs.readFiles(root, [['h.bin'], ['empty']], 100_000, 'sha256');

      expect(bytesOf(read)).toEqual(data);
      expect(read).toMatchObject({ kind: 'file', digest: sha256(data) });
      expect(bytesOf(empty)).toHaveLength(0);
      expect(empty).toMatchObject({ kind: 'file', length: 0, digest: sha256('') });
    });

    it('reads files beneath subdirectories, and answers every path in the order asked', async () => {
      await mkdir(join(top, 'd', 'e'), { recursive: true });
      await writeFile(join(top, 'd', 'e', 'deep.txt'), 'deep');
      await writeFile(join(top, 'top.txt'), 'top');

      const reads = await jobs.readFiles(
        root,
        [['d', 'e', 'deep.txt'], ['missing'], ['top.txt'], ['d']],
        1024,
      );

      expect(reads.map((r) => r.kind)).toEqual(['file', 'gone', 'file', 'gone']);
      expect(bytesOf(reads[0]).toString()).toBe('deep');
      expect(bytesOf(reads[2]).toString()).toBe('top');
    });

    it('answers gone for a missing file and for a missing directory on the way', async () => {
      const reads = await jobs.readFiles(root, [['nothing'], ['no-dir', 'f']], 1024);
      expect(reads).toEqual([{ kind: 'gone' }, { kind: 'gone' }]);
    });

    it('answers gone for a symlink as the last segment, never reading its target', async () => {
      await writeFile(join(top, 'real.txt'), 'real');
      await writeFile(join(outside, 'secret'), 'secret');
      await symlink('real.txt', join(top, 'inside-link'));
      await symlink(join(outside, 'secret'), join(top, 'outside-link'));

      const reads = await jobs.readFiles(root, [['inside-link'], ['outside-link']], 1024);

      expect(reads).toEqual([{ kind: 'gone' }, { kind: 'gone' }]);
    });

    it('answers gone for a path through a symlinked directory, never following it', async () => {
      await mkdir(join(top, 'realdir'));
      await writeFile(join(top, 'realdir', 'f'), 'in the real dir');
      await symlink('realdir', join(top, 'link'));
      await writeFile(join(outside, 'f'), 'outside');
      await symlink(outside, join(top, 'out'));

      const reads = await jobs.readFiles(
        root,
        [
          ['link', 'f'],
          ['out', 'f'],
          ['realdir', 'f'],
        ],
        1024,
      );

      expect(reads.map((r) => r.kind)).toEqual(['gone', 'gone', 'file']);
      expect(bytesOf(reads[2]).toString()).toBe('in the real dir');
    });

    it('answers gone for a directory, and for a path through a regular file', async () => {
      await mkdir(join(top, 'dir'));
      await writeFile(join(top, 'plain'), 'x');

      const reads = await jobs.readFiles(root, [['dir'], ['plain', 'f']], 1024);

      expect(reads).toEqual([{ kind: 'gone' }, { kind: 'gone' }]);
    });

    it('answers large for a file over maxBytes, and reads one of exactly maxBytes', async () => {
      await writeFile(join(top, 'big'), Buffer.alloc(1001, 7));
      await writeFile(join(top, 'fits'), Buffer.alloc(1000, 7));

      const [big, fits] = await jobs.readFiles(root, [['big'], ['fits']], 1000, 'sha256');

      expect(big).toEqual({ kind: 'large' });
      expect(bytesOf(fits)).toEqual(Buffer.alloc(1000, 7));
    });

    it('readSmall is one such read', async () => {
      await writeFile(join(top, 'one'), 'one file');
      await mkdir(join(top, 'dir'));

      expect(bytesOf(await jobs.readSmall(root, ['one'], 100)).toString()).toBe('one file');
      expect(await jobs.readSmall(root, ['one'], 3)).toEqual({ kind: 'large' });
      expect(await jobs.readSmall(root, ['dir'], 100)).toEqual({ kind: 'gone' });
      expect(await jobs.readSmall(root, ['nope'], 100)).toEqual({ kind: 'gone' });
    });
  });

  describe('lstatAll', () => {
    it("gives each path's own metadata: file, dir, symlink (not followed), other", async () => {
      await writeFile(join(top, 'f'), '12345');
      await mkdir(join(top, 'd'));
      await writeFile(join(top, 'd', 'inner'), 'x');
      await symlink('f', join(top, 'l'));
      execFileSync('mkfifo', [join(top, 'pipe')]);

      const stats = await jobs.lstatAll(root, [['f'], ['d'], ['l'], ['d', 'inner'], ['pipe']]);

      expect(stats.map((s) => s?.kind)).toEqual(['file', 'dir', 'symlink', 'file', 'other']);
      const f = await lstat(join(top, 'f'));
      expect(stats[0]).toEqual({
        kind: 'file',
        ino: f.ino,
        size: 5,
        mtimeMs: f.mtimeMs,
        ctimeMs: f.ctimeMs,
        mode: f.mode,
      });
      const l = await lstat(join(top, 'l'));
      expect(stats[2]).toMatchObject({ ino: l.ino, size: 1 });
      expect(stats[3]?.ino).toBe((await lstat(join(top, 'd', 'inner'))).ino);
    });

    it('gives undefined for a missing path and for a path under a symlink or a file', async () => {
      await mkdir(join(top, 'realdir'));
      await writeFile(join(top, 'realdir', 'f'), 'x');
      await symlink('realdir', join(top, 'link'));
      await writeFile(join(top, 'plain'), 'x');

      const stats = await jobs.lstatAll(root, [
        ['missing'],
        ['missing-dir', 'f'],
        ['link', 'f'],
        ['plain', 'f'],
        ['realdir', 'f'],
      ]);

      expect(stats.slice(0, 4)).toEqual([undefined, undefined, undefined, undefined]);
      expect(stats[4]?.kind).toBe('file');
    });
  });

  describe('inspect', () => {
    it("gives each name's own metadata and a symlink's target, in the order asked", async () => {
      await writeFile(join(top, 'f'), 'file');
      await mkdir(join(top, 'd'));
      await symlink('../somewhere/else', join(top, 'l'));
      execFileSync('mkfifo', [join(top, 'pipe')]);

      const found = await jobs.inspect(root, [
        { name: 'l' },
        { name: 'f' },
        { name: 'd' },
        { name: 'pipe' },
      ]);

      expect(found.map((e) => e.name)).toEqual(['l', 'f', 'd', 'pipe']);
      expect(found.map((e) => e.stat?.kind)).toEqual(['symlink', 'file', 'dir', 'other']);
      expect(found[0]?.link).toBe('../somewhere/else');
      expect(found[1]?.stat?.ino).toBe((await lstat(join(top, 'f'))).ino);
      expect(found[1]).not.toHaveProperty('link');
      // No algorithm: nothing is read.
      expect(found.some((e) => e.hashed !== undefined)).toBe(false);
    });

    it('hashes regular files with the algorithm named, and only them', async () => {
      const small = randomBytes(100);
      // Several of the job's 1 MiB reads.
      const large = randomBytes(2.5 * 1024 * 1024);
      await writeFile(join(top, 'small'), small);
      await writeFile(join(top, 'large'), large);
      await mkdir(join(top, 'd'));
      await symlink('small', join(top, 'l'));

      const before = Date.now();
      const found = await jobs.inspect(
        root,
        [{ name: 'small' }, { name: 'large' }, { name: 'd' }, { name: 'l' }],
        'sha256',
      );
      const after = Date.now();

      const [s, l, d, link] = found;
      expect(s?.hashed?.hash).toBe(sha256(small));
      expect(l?.hashed?.hash).toBe(sha256(large));
      const st = await lstat(join(top, 'large'));
      expect(l?.hashed?.after).toMatchObject({
        kind: 'file',
        ino: st.ino,
        size: large.length,
        mtimeMs: st.mtimeMs,
      });
      expect(l?.hashed?.after).toEqual(l?.stat);
      expect(l?.hashed?.readAtMs).toBeGreaterThanOrEqual(before);
      expect(l?.hashed?.readAtMs).toBeLessThanOrEqual(after);
      expect(d?.hashed).toBeUndefined();
      expect(link?.hashed).toBeUndefined();
      expect(link?.link).toBe('small');
    });

    it('does not hash a file whose metadata is skipIf, and hashes one that changed', async () => {
      await writeFile(join(top, 'same'), 'unchanged');
      await writeFile(join(top, 'edited'), 'first');
      const same = await metaOf(join(top, 'same'));
      const old = await metaOf(join(top, 'edited'));
      await writeFile(join(top, 'edited'), 'second, longer');
      await utimes(join(top, 'edited'), new Date(old.mtimeMs + 5000), new Date(old.mtimeMs + 5000));

      const found = await jobs.inspect(
        root,
        [
          { name: 'same', skipIf: same },
          // Only the permission bits of mode are compared.
          { name: 'same', skipIf: { ...same, mode: same.mode & 0o7777 } },
          { name: 'edited', skipIf: old },
        ],
        'sha256',
      );

      expect(found[0]?.stat?.ino).toBe(same.ino);
      expect(found[0]?.hashed).toBeUndefined();
      expect(found[1]?.hashed).toBeUndefined();
      expect(found[2]?.hashed?.hash).toBe(sha256('second, longer'));
    });

    it.each<[string, (m: Meta) => Meta]>([
      ['size', (m) => ({ ...m, size: m.size + 1 })],
      ['mtime', (m) => ({ ...m, mtimeMs: m.mtimeMs - 1 })],
      ['ctime', (m) => ({ ...m, ctimeMs: m.ctimeMs - 1 })],
      ['inode', (m) => ({ ...m, ino: m.ino + 1 })],
      ['permissions', (m) => ({ ...m, mode: m.mode ^ 0o020 })],
    ])('hashes a file whose %s differs from skipIf', async (_what, change) => {
      await writeFile(join(top, 'f'), 'content');
      const meta = await metaOf(join(top, 'f'));

      const [found] = await jobs.inspect(root, [{ name: 'f', skipIf: change(meta) }], 'sha256');

      expect(found?.hashed?.hash).toBe(sha256('content'));
    });

    it('with no algorithm, hashes nothing, skipIf or not', async () => {
      await writeFile(join(top, 'f'), 'content');
      const meta = await metaOf(join(top, 'f'));

      const found = await jobs.inspect(root, [
        { name: 'f' },
        { name: 'f', skipIf: { ...meta, size: 0 } },
      ]);

      expect(found.map((e) => e.stat?.kind)).toEqual(['file', 'file']);
      expect(found.map((e) => e.hashed)).toEqual([undefined, undefined]);
    });

    it('gives no stat for a name that is not there', async () => {
      await writeFile(join(top, 'here'), 'x');
      await writeFile(join(top, 'vanished'), 'x');
      await rm(join(top, 'vanished'));

      const found = await jobs.inspect(root, [{ name: 'vanished' }, { name: 'here' }], 'sha256');

      expect(found[0]).toEqual({ name: 'vanished' });
      expect(found[1]?.stat?.kind).toBe('file');
    });

    it('looks into the directory it is given, not the root', async () => {
      await mkdir(join(top, 'sub'));
      await writeFile(join(top, 'sub', 'f'), 'in sub');
      await writeFile(join(top, 'f'), 'in root');
      const sub = await root.dir('sub');
      try {
        const [found] = await jobs.inspect(sub, [{ name: 'f' }], 'sha256');
        expect(found?.hashed?.hash).toBe(sha256('in sub'));
      } finally {
        await sub.close();
      }
    });

    it.each(['..', '.', '', 'a/b', 'x\0y'])('refuses the name %j before any job', async (name) => {
      const jobsRun = countJobs();
      await expect(jobs.inspect(root, [{ name: 'ok' }, { name }])).rejects.toThrow(
        InvalidInputError,
      );
      expect(jobsRun).not.toHaveBeenCalled();
    });
  });

  describe('placeNew', () => {
    let temps = 0;
    const DATA = Buffer.from('new file content');
    /** A whole second (any whole millisecond is kept exactly too: see the case on mtimes). */
    const MTIME = 1_600_000_000_000;

    const item = (segments: string[], data: Buffer = DATA, over: Partial<PlaceItem> = {}) => ({
      segments,
      temp: `.budgie-sync-test-${temps++}.tmp`,
      data,
      mode: 0o640,
      mtimeMs: MTIME,
      digest: { algorithm: 'sha256', hex: sha256(data) },
      ...over,
    });

    const temporaries = async (dir: string): Promise<string[]> =>
      (await tree(dir)).filter((name) => name.endsWith('.tmp'));

    it('places a new file with its data, mode and mtime, and leaves no temp', async () => {
      const placed = await jobs.placeNew(root, item(['new.txt']));

      const path = join(top, 'new.txt');
      const st = await lstat(path);
      expect(await readFile(path)).toEqual(DATA);
      expect(st.isFile()).toBe(true);
      expect(st.mode & 0o7777).toBe(0o640);
      expect(st.mtimeMs).toBe(MTIME);
      expect(placed).toEqual({
        kind: 'placed',
        stat: {
          kind: 'file',
          ino: st.ino,
          size: DATA.length,
          mtimeMs: st.mtimeMs,
          ctimeMs: st.ctimeMs,
          mode: st.mode,
        },
      });
      expect(await tree(top)).toEqual(['new.txt']);
    });

    it('places an empty file, and a file with the sticky bit', async () => {
      const [empty, sticky] = await Promise.all([
        jobs.placeNew(root, item(['empty'], Buffer.alloc(0), { mode: 0o600 })),
        jobs.placeNew(root, item(['sticky'], DATA, { mode: 0o1755 })),
      ]);

      expect(empty.kind).toBe('placed');
      expect(sticky.kind).toBe('placed');
      expect((await stat(join(top, 'empty'))).size).toBe(0);
      expect((await stat(join(top, 'empty'))).mode & 0o7777).toBe(0o600);
      expect((await stat(join(top, 'sticky'))).mode & 0o7777).toBe(0o1755);
    });

    it('makes the missing directories on the way', async () => {
      await mkdir(join(top, 'a'));

      const placed = await jobs.placeNew(root, item(['a', 'b', 'c', 'f.txt']));

      expect(placed.kind).toBe('placed');
      expect(await readFile(join(top, 'a', 'b', 'c', 'f.txt'))).toEqual(DATA);
      expect((await lstat(join(top, 'a', 'b'))).isDirectory()).toBe(true);
      expect((await lstat(join(top, 'a', 'b', 'c'))).isDirectory()).toBe(true);
      expect(await temporaries(top)).toEqual([]);
    });

    it.each<[string, (path: string) => Promise<void>]>([
      ['a file', (path) => writeFile(path, 'already here')],
      ['a directory', (path) => mkdir(path)],
      ['a dangling symlink', (path) => symlink('nowhere', path)],
    ])('leaves %s at the name alone: exists', async (_what, make) => {
      const path = join(top, 'taken');
      await make(path);
      const before = await lstat(path);

      const placed = await jobs.placeNew(root, item(['taken']));

      expect(placed).toEqual({ kind: 'exists' });
      const after = await lstat(path);
      expect(after.ino).toBe(before.ino);
      expect(after.mtimeMs).toBe(before.mtimeMs);
      expect(after.mode).toBe(before.mode);
      if (after.isFile()) expect(await readFile(path, 'utf8')).toBe('already here');
      expect(await temporaries(top)).toEqual([]);
    });

    it('writes nothing when the data is not what the digest names: mismatch', async () => {
      const placed = await jobs.placeNew(
        root,
        item(['new-dir', 'f.txt'], DATA, { digest: { algorithm: 'sha256', hex: sha256('other') } }),
      );

      expect(placed).toEqual({ kind: 'mismatch' });
      // Not even the directory on the way.
      expect(await tree(top)).toEqual([]);
    });

    it('never writes through a parent that is a symlink out of the root: no-parent', async () => {
      await symlink(outside, join(top, 'escape'));
      await mkdir(join(outside, 'deeper'));

      const placed = await Promise.all([
        jobs.placeNew(root, item(['escape', 'f.txt'])),
        jobs.placeNew(root, item(['escape', 'deeper', 'f.txt'])),
        jobs.placeNew(root, item(['escape', 'new', 'f.txt'])),
      ]);

      expect(placed).toEqual([{ kind: 'no-parent' }, { kind: 'no-parent' }, { kind: 'no-parent' }]);
      expect(await tree(outside)).toEqual(['deeper']);
      expect(await tree(top)).toEqual(['escape']);
    });

    it('never writes through a symlink to a directory inside the root either', async () => {
      await mkdir(join(top, 'real'));
      await symlink('real', join(top, 'alias'));

      const placed = await jobs.placeNew(root, item(['alias', 'f.txt']));

      expect(placed).toEqual({ kind: 'no-parent' });
      expect(await tree(join(top, 'real'))).toEqual([]);
    });

    it('answers no-parent for a parent that is a regular file, and leaves it alone', async () => {
      await writeFile(join(top, 'plain'), 'a file');

      const placed = await jobs.placeNew(root, item(['plain', 'f.txt']));

      expect(placed).toEqual({ kind: 'no-parent' });
      expect(await readFile(join(top, 'plain'), 'utf8')).toBe('a file');
      expect(await tree(top)).toEqual(['plain']);
    });

    it('places the calls of one tick in one job, each caller with its own answer', async () => {
      const jobsRun = countJobs();
      const files = Array.from({ length: 20 }, (_, i) => ({
        name: `f${i}.txt`,
        data: Buffer.from(`file number ${i}`),
      }));

      const placed = await Promise.all(
        files.map((f) => jobs.placeNew(root, item(['batch', f.name], f.data))),
      );

      expect(jobsRun).toHaveBeenCalledTimes(1);
      for (const [i, f] of files.entries()) {
        const st = await lstat(join(top, 'batch', f.name));
        expect(placed[i]).toMatchObject({ kind: 'placed', stat: { ino: st.ino, size: st.size } });
        expect(await readFile(join(top, 'batch', f.name))).toEqual(f.data);
      }
      expect(await temporaries(top)).toEqual([]);
    });

    it('splits the calls of one tick into jobs of at most 64', async () => {
      const jobsRun = countJobs();

      const placed = await Promise.all(
        Array.from({ length: 70 }, (_, i) =>
          jobs.placeNew(root, item([`f${i}`], Buffer.from(`${i}`))),
        ),
      );

      expect(jobsRun).toHaveBeenCalledTimes(2);
      expect(placed.every((p) => p.kind === 'placed')).toBe(true);
      expect(await readdir(top)).toHaveLength(70);
      expect(await readFile(join(top, 'f69'), 'utf8')).toBe('69');
    });

    it('gives each call of a batch its own outcome', async () => {
      await writeFile(join(top, 'taken'), 'old');
      await writeFile(join(top, 'plain'), 'a file');
      const bad = { algorithm: 'sha256', hex: sha256('not this') };

      const placed = await Promise.all([
        jobs.placeNew(root, item(['ok-1'])),
        jobs.placeNew(root, item(['taken'])),
        jobs.placeNew(root, item(['wrong'], DATA, { digest: bad })),
        jobs.placeNew(root, item(['plain', 'x'])),
        jobs.placeNew(root, item(['ok-2'])),
        // The same name twice in one batch: the second finds the first there.
        jobs.placeNew(root, item(['twice'], Buffer.from('first'))),
        jobs.placeNew(root, item(['twice'], Buffer.from('second'))),
      ]);

      expect(placed.map((p) => p.kind)).toEqual([
        'placed',
        'exists',
        'mismatch',
        'no-parent',
        'placed',
        'placed',
        'exists',
      ]);
      expect(await readFile(join(top, 'taken'), 'utf8')).toBe('old');
      expect(await readFile(join(top, 'twice'), 'utf8')).toBe('first');
      expect(await tree(top)).toEqual(['ok-1', 'ok-2', 'plain', 'taken', 'twice']);
    });

    it('places the calls of one tick beneath two roots, each beneath its own', async () => {
      await mkdir(join(base, 'other'));
      const other = await Dir.open(join(base, 'other'));
      try {
        const jobsRun = countJobs();
        const placed = await Promise.all([
          jobs.placeNew(root, item(['f'], Buffer.from('root'))),
          jobs.placeNew(other, item(['f'], Buffer.from('other'))),
        ]);
        expect(placed.map((p) => p.kind)).toEqual(['placed', 'placed']);
        expect(jobsRun).toHaveBeenCalledTimes(2);
        expect(await readFile(join(top, 'f'), 'utf8')).toBe('root');
        expect(await readFile(join(base, 'other', 'f'), 'utf8')).toBe('other');
      } finally {
        await other.close();
      }
    });

    it('answers failed with the system code when its temp name is taken', async () => {
      await writeFile(join(top, '.budgie-sync-taken.tmp'), 'someone else');

      const placed = await jobs.placeNew(
        root,
        item(['f'], DATA, { temp: '.budgie-sync-taken.tmp' }),
      );

      expect(placed).toMatchObject({ kind: 'failed', message: /EEXIST/ });
      expect(await readFile(join(top, '.budgie-sync-taken.tmp'), 'utf8')).toBe('someone else');
      expect(await tree(top)).toEqual(['.budgie-sync-taken.tmp']);
    });

    it('answers failed with the code of the system error', async () => {
      await writeFile(join(top, '.budgie-sync-taken.tmp'), 'someone else');

      const placed = await jobs.placeNew(
        root,
        item(['f'], DATA, { temp: '.budgie-sync-taken.tmp' }),
      );

      expect(placed).toMatchObject({ kind: 'failed', code: 'EEXIST' });
    });

    it.each<[string, Partial<PlaceItem>]>([
      ['a .. segment', { segments: ['..', 'escaped'] }],
      ['a . segment', { segments: ['.', 'f'] }],
      ['an empty segment', { segments: ['a', '', 'f'] }],
      ['a segment with a slash', { segments: ['a/b'] }],
      ['a segment with a NUL', { segments: ['a\0b'] }],
      ['a temp name with a slash', { temp: '../x.tmp' }],
      ['a .. temp name', { temp: '..' }],
    ])('refuses %s before any job runs', async (_what, over) => {
      const jobsRun = countJobs();

      const err = await failureOf(() => jobs.placeNew(root, item(['f'], DATA, over)));
      await turn();
      await turn();

      expect(err).toBeInstanceOf(InvalidInputError);
      expect(jobsRun).not.toHaveBeenCalled();
      expect(await tree(top)).toEqual([]);
      expect(await tree(base)).toEqual(['outside', 'root']);
    });

    it('a refused call does not hold up the others of its tick', async () => {
      const good = jobs.placeNew(root, item(['good']));
      expect(() => jobs.placeNew(root, item(['..']))).toThrow(InvalidInputError);

      expect((await good).kind).toBe('placed');
      expect(await tree(top)).toEqual(['good']);
    });
  });

  it('a job that fails rejects with the system error', async () => {
    // A name longer than NAME_MAX: lstat fails with ENAMETOOLONG, not ENOENT.
    await expect(jobs.lstatAll(root, [['a'.repeat(300)]])).rejects.toThrow(/ENAMETOOLONG/);
    // And the runner goes on.
    await writeFile(join(top, 'f'), 'x');
    expect((await jobs.lstatAll(root, [['f']]))[0]?.kind).toBe('file');
  });

  // Node's system errors are not instances of jest's Error (another realm): the code must
  // survive inline as on threads.
  it('a job that fails rejects with an error carrying the system code', async () => {
    const err = await failureOf(() => jobs.lstatAll(root, [['a'.repeat(300)]]));
    expect(err).toMatchObject({ code: 'ENAMETOOLONG' });
  });

  // Every segment is checked (Dir.at) before a job runs: '..' never climbs out of the root.
  it('readFiles and lstatAll refuse a .. segment rather than leave the root', async () => {
    await writeFile(join(outside, 'secret'), 'outside the root');
    const read = await failureOf(() => jobs.readFiles(root, [['..', 'outside', 'secret']], 100));
    const looked = await failureOf(() => jobs.lstatAll(root, [['..', 'outside', 'secret']]));
    expect(read).toBeInstanceOf(InvalidInputError);
    expect(looked).toBeInstanceOf(InvalidInputError);
  });

  // ms / 1000 is not exact in binary: stored as is, half of all times read back (floored) one
  // millisecond early; secondsOf stores each inside its own millisecond.
  it('places a file with exactly the whole-ms mtime given', async () => {
    const mtimeMs = 1_700_574_274_810;
    const data = Buffer.from('x');
    const digest = { algorithm: 'sha256', hex: sha256(data) };
    const placed = await jobs.placeNew(root, {
      segments: ['f'],
      temp: '.budgie-sync-mtime.tmp',
      data,
      mode: 0o644,
      mtimeMs,
      digest,
    });
    expect(placed.kind).toBe('placed');
    expect((await lstat(join(top, 'f'))).mtimeMs).toBe(mtimeMs);
  });
});

describe('FileJobs on threads', () => {
  let jobs: FileJobs;
  let base: string;
  let root: Dir;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'budgie-file-jobs-'));
    root = await Dir.open(base);
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await jobs.close();
    await root.close();
    await rm(base, { recursive: true, force: true });
  });

  it("rejects a job's failure with an Error carrying the system code, from the thread", async () => {
    jobs = FileJobs.threads({ script });

    const err = await failureOf(() => jobs.lstatAll(root, [['x'.repeat(300), 'f']]));

    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: 'ENAMETOOLONG', message: /ENAMETOOLONG/ });
    // Only the message and the code cross: it was raised on a worker thread, not here.
    expect(err).not.toHaveProperty('syscall');
  });

  it('runs jobs side by side on at most `size` threads, and reuses an idle one', async () => {
    jobs = FileJobs.threads({ size: 2, script });
    const sent = jest.spyOn(Worker.prototype, 'postMessage');
    await writeFile(join(base, 'f'), 'content');

    // One after another: the one thread, idle each time, does them all.
    for (let i = 0; i < 3; i++) expect((await jobs.readSmall(root, ['f'], 100)).kind).toBe('file');
    expect(new Set(sent.mock.contexts).size).toBe(1);

    // Ten at once: a second thread, and no more.
    const reads = await Promise.all(
      Array.from({ length: 10 }, () => jobs.readSmall(root, ['f'], 100)),
    );
    expect(reads.map((r) => bytesOf(r).toString())).toEqual(Array(10).fill('content'));
    expect(sent).toHaveBeenCalledTimes(13);
    expect(new Set(sent.mock.contexts).size).toBe(2);
  });

  it('close() stops the threads, and does not hang with nothing running', async () => {
    jobs = FileJobs.threads({ size: 3, script });
    await Promise.all([jobs.lstatAll(root, [['a']]), jobs.lstatAll(root, [['b']])]);
    const terminate = jest.spyOn(Worker.prototype, 'terminate');

    await jobs.close();

    expect(terminate).toHaveBeenCalledTimes(2);
    // A second close has nothing left to stop.
    await jobs.close();
    expect(terminate).toHaveBeenCalledTimes(2);
  });

  it('a job in flight when close() is called settles: answered, or failed', async () => {
    jobs = FileJobs.threads({ script });
    await writeFile(join(base, 'f'), randomBytes(100_000));

    const inFlight = jobs.readFiles(root, Array(50).fill(['f']), 200_000, 'sha256');
    await jobs.close();
    const [outcome] = await Promise.allSettled([inFlight]);

    if (outcome.status === 'rejected') {
      expect(outcome.reason).toMatchObject({ message: /worker thread exited/ });
    } else {
      expect(outcome.value).toHaveLength(50);
    }
  });

  it('falls back to running inline when the worker script does not exist', async () => {
    jobs = FileJobs.threads({ script: join(base, 'no-such-worker.js') });
    const ran = jest.spyOn(fileWork, 'runJob');
    const started = jest.spyOn(Worker.prototype, 'postMessage');
    await writeFile(join(base, 'f'), 'inline');

    expect(bytesOf(await jobs.readSmall(root, ['f'], 100)).toString()).toBe('inline');
    expect(ran).toHaveBeenCalledTimes(1);
    expect(started).not.toHaveBeenCalled();
  });

  /** Opens the FIFO for writing once a reader waits on it, so that the reader goes on. */
  async function unblock(fifo: string, settled: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !settled(); i++) {
      try {
        const w = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
        await w.close();
      } catch {
        // ENXIO: no reader yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  // Files are opened O_NONBLOCK: a fifo where a file was is refused at once (its fstat), instead
  // of holding a thread (and close() with it) until a writer comes.
  it('reads a FIFO as gone without waiting for a writer', async () => {
    jobs = FileJobs.threads({ script });
    const fifo = join(base, 'pipe');
    execFileSync('mkfifo', [fifo]);
    let settled = false;
    const read = jobs.readSmall(root, ['pipe'], 100).finally(() => {
      settled = true;
    });
    try {
      const timeout = new Promise((resolve) => setTimeout(resolve, 1000, 'still blocked'));
      expect(await Promise.race([read, timeout])).toEqual({ kind: 'gone' });
    } finally {
      await unblock(fifo, () => settled);
      await read;
    }
  });

  it('close() does not hang on a job blocked on a FIFO', async () => {
    jobs = FileJobs.threads({ script });
    const fifo = join(base, 'pipe');
    execFileSync('mkfifo', [fifo]);
    let settled = false;
    const read = jobs.readSmall(root, ['pipe'], 100).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const closing = jobs.close().finally(() => {
      settled = true;
    });
    try {
      const timeout = new Promise((resolve) => setTimeout(resolve, 1000, 'still closing'));
      expect(await Promise.race([closing, timeout])).toBeUndefined();
    } finally {
      await unblock(fifo, () => settled);
      await closing;
      await read;
    }
  });
});
