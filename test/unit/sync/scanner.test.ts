import { chmod, mkdir, mkdtemp, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dir } from '../../../src/fs';
import { VolumeIndex } from '../../../src/sync/index-store';
import { prehash, scan, suspects } from '../../../src/sync/scanner';

let base: string;
let root: Dir;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'budgie-scan-'));
  root = await Dir.open(base);
});
afterEach(async () => {
  await root.close();
  await rm(base, { recursive: true, force: true });
});

/** Files written a minute ago, so that their stamps are not racy. */
async function aged(...paths: string[]): Promise<void> {
  const then = new Date(Date.now() - 60_000);
  for (const path of paths) await utimes(join(base, path), then, then);
}

it('suspects names exactly what a full scan would look at again, without changing the index', async () => {
  await mkdir(join(base, 'keep'));
  await writeFile(join(base, 'keep', 'same.txt'), 'same');
  await writeFile(join(base, 'keep', 'edited.txt'), 'before');
  await writeFile(join(base, 'gone.txt'), 'x');
  await mkdir(join(base, 'loose'));
  await aged('keep/same.txt', 'keep/edited.txt', 'gone.txt');
  const index = VolumeIndex.fresh();
  await scan(root, index, 'n1');
  expect(await suspects(root, index)).toEqual([]);

  await writeFile(join(base, 'keep', 'edited.txt'), 'after, longer');
  await unlink(join(base, 'gone.txt'));
  await mkdir(join(base, 'fresh'));
  await writeFile(join(base, 'fresh', 'inside.txt'), 'new');
  await aged('keep/edited.txt', 'fresh/inside.txt');
  await chmod(join(base, 'loose'), 0o700);
  await utimes(join(base, 'keep', 'same.txt'), new Date(), new Date(0)); // mtime: a change too
  const sequence = index.sequence;
  const found = (await suspects(root, index)).sort();
  expect(found).toEqual(['fresh', 'gone.txt', 'keep/edited.txt', 'keep/same.txt', 'loose']);
  expect(index.sequence).toBe(sequence);

  // Scanning only those brings the index where a full scan would.
  for (const path of found) await scan(root, index, 'n1', path);
  expect(await suspects(root, index)).toEqual([]);
  expect(index.get('fresh/inside.txt')?.record.deleted).toBe(false);
  expect(index.get('gone.txt')?.record.deleted).toBe(true);
  const full = index.sequence;
  await scan(root, index, 'n1');
  expect(index.sequence).toBe(full);
});

it('a file read within a second of its last write is read again by the next scan', async () => {
  // Two writes in one tick of the kernel's file clock leave the same stamp: a file scanned
  // right after a write cannot be trusted by its stamp until that tick has passed.
  await writeFile(join(base, 'hot.txt'), 'aaaa');
  await writeFile(join(base, 'cold.txt'), 'cccc');
  await aged('cold.txt');
  const index = VolumeIndex.fresh();
  await scan(root, index, 'n1');
  expect(index.get('hot.txt')?.stamp?.racy).toBe(true);
  expect(index.get('cold.txt')?.stamp?.racy).toBeUndefined();
  expect(await suspects(root, index)).toEqual(['hot.txt']);

  const again = await scan(root, index, 'n1');
  expect(again.hashedBytes).toBe(4); // hot.txt only
  await aged('hot.txt');
  await scan(root, index, 'n1');
  expect(index.get('hot.txt')?.stamp?.racy).toBeUndefined();
  expect((await scan(root, index, 'n1')).hashedBytes).toBe(0);
  expect(await suspects(root, index)).toEqual([]);
});

it('a rehash reads a file whose stamp is trusted', async () => {
  await writeFile(join(base, 'f.txt'), 'same size');
  await aged('f.txt');
  const index = VolumeIndex.fresh();
  await scan(root, index, 'n1');
  expect((await scan(root, index, 'n1', 'f.txt')).hashedBytes).toBe(0);
  expect((await scan(root, index, 'n1', 'f.txt', { rehash: true })).hashedBytes).toBe(9);
});

it('prehash reads new and changed files outside the lock, and the scan then reads nothing', async () => {
  await mkdir(join(base, 'moved-in', 'deep'), { recursive: true });
  await writeFile(join(base, 'moved-in', 'a.txt'), 'aaa');
  await writeFile(join(base, 'moved-in', 'deep', 'b.txt'), 'bbbb');
  await writeFile(join(base, 'old.txt'), 'old');
  await aged('moved-in/a.txt', 'moved-in/deep/b.txt', 'old.txt');
  const index = VolumeIndex.fresh();
  await scan(root, index, 'n1', 'old.txt');
  const sequence = index.sequence;
  const known = await prehash(root, index, ['moved-in', 'old.txt']);
  expect([...known.keys()].sort()).toEqual(['moved-in/a.txt', 'moved-in/deep/b.txt']);
  expect(index.sequence).toBe(sequence);
  // b.txt changes after it was hashed: its stamp differs, so the scan reads it itself.
  await writeFile(join(base, 'moved-in', 'deep', 'b.txt'), 'b, changed');
  await aged('moved-in/deep/b.txt');
  const stats = await scan(root, index, 'n1', 'moved-in', { known });
  expect(stats.hashedBytes).toBe('b, changed'.length);
  expect(index.get('moved-in/a.txt')?.record.hash).toBe(known.get('moved-in/a.txt')?.hash);
  const fresh = VolumeIndex.fresh();
  await scan(root, fresh, 'n1');
  expect(index.get('moved-in/deep/b.txt')?.record.hash).toBe(
    fresh.get('moved-in/deep/b.txt')?.record.hash,
  );
});
