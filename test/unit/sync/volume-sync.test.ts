import { randomBytes } from 'node:crypto';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rename,
  rm,
  rmdir,
  stat,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileJobs } from '../../../src/fs';
import { silentLogger } from '../../../src/log';
import type { SyncPeer } from '../../../src/sync/transfer';
import type { StatFs } from '../../../src/sync/free-space';
import { VolumeSync } from '../../../src/sync/volume-sync';

/**
 * Two (or three) nodes' copies of one volume in temp dirs, pulled from each other in process:
 * the engine's decisions and its writes on a real file system, without the network (the agent's
 * gRPC service is tested on the cluster lab).
 */
let base: string;
const nodes: VolumeSync[] = [];

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'budgie-vsync-'));
});

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.close()));
  await rm(base, { recursive: true, force: true });
});

async function node(name: string, statfs?: StatFs): Promise<{ sync: VolumeSync; dir: string }> {
  const dir = join(base, name, 'data');
  const sync = new VolumeSync({
    ...(statfs !== undefined && { statfs }),
    app: 'web',
    target: '/data',
    dir,
    self: `${name}-node-id`,
    indexFile: join(base, name, 'index.json'),
    log: silentLogger(),
    rescanMs: 0,
    watch: false,
  });
  await sync.start();
  nodes.push(sync);
  return { sync, dir };
}

/** `other` (node `nodeId`) as a member; `caller`, the node that pulls, is told to `other`. */
function peerOf(other: VolumeSync, nodeId: string, caller?: string): SyncPeer {
  return {
    nodeId,
    changes: (query, signal) => other.changes(query, signal, caller),
    fetch: (path, signature, signal) => other.read(path, signature, signal),
    fetchFiles: (paths, signal) => other.readFiles(paths, signal),
  };
}

/** The signature cache's files once `ready` says so (within 5 s). */
async function signaturesIn(dir: string, ready: (names: string[]) => boolean): Promise<string[]> {
  for (const deadline = Date.now() + 5000; ;) {
    const names = await readdir(dir).catch(() => []);
    if (ready(names) || Date.now() > deadline) return names;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Rescans both and pulls both ways until neither has anything new. */
async function settle(a: { sync: VolumeSync }, b: { sync: VolumeSync }): Promise<void> {
  const signal = new AbortController().signal;
  for (let i = 0; i < 4; i++) {
    await a.sync.rescan('');
    await b.sync.rescan('');
    await a.sync.pullOnce(peerOf(b.sync, 'b'), 0, signal);
    await b.sync.pullOnce(peerOf(a.sync, 'a'), 0, signal);
  }
}

it('creates, modifies, renames, deletes, chmods and links propagate both ways', async () => {
  const a = await node('a');
  const b = await node('b');
  await mkdir(join(a.dir, 'sub', 'deep'), { recursive: true });
  await writeFile(join(a.dir, 'sub', 'deep', 'one.txt'), 'one');
  await writeFile(join(a.dir, 'two.txt'), 'two');
  await symlink('two.txt', join(a.dir, 'alias'));
  await symlink('/etc/passwd', join(a.dir, 'escape'));
  await settle(a, b);
  expect(await readFile(join(b.dir, 'sub', 'deep', 'one.txt'), 'utf8')).toBe('one');
  expect(await readlink(join(b.dir, 'alias'))).toBe('two.txt');
  await expect(lstat(join(b.dir, 'escape'))).rejects.toThrow(/ENOENT/);

  await writeFile(join(b.dir, 'two.txt'), 'two, edited on b');
  await chmod(join(b.dir, 'sub', 'deep', 'one.txt'), 0o640);
  await rename(join(b.dir, 'sub', 'deep', 'one.txt'), join(b.dir, 'sub', 'moved.txt'));
  await rmdir(join(b.dir, 'sub', 'deep'));
  await settle(a, b);
  expect(await readFile(join(a.dir, 'two.txt'), 'utf8')).toBe('two, edited on b');
  expect(await readFile(join(a.dir, 'sub', 'moved.txt'), 'utf8')).toBe('one');
  expect((await stat(join(a.dir, 'sub', 'moved.txt'))).mode & 0o777).toBe(0o640);
  await expect(lstat(join(a.dir, 'sub', 'deep'))).rejects.toThrow(/ENOENT/);
  // The rename found its bytes here: nothing but the edit travelled.
  expect(a.sync.received.literalBytes).toBe('two, edited on b'.length);

  await unlink(join(a.dir, 'two.txt'));
  await settle(a, b);
  await expect(lstat(join(b.dir, 'two.txt'))).rejects.toThrow(/ENOENT/);
  expect((await readdir(b.dir)).filter((n) => n.startsWith('.budgie-sync-'))).toEqual([]);
});

it('a small edit in a large file moves a delta, not the file', async () => {
  const a = await node('a');
  const b = await node('b');
  const big = randomBytes(4 * 1024 * 1024);
  await writeFile(join(a.dir, 'big.bin'), big);
  await settle(a, b);
  expect(b.sync.received.literalBytes).toBe(big.length);
  const edited = Buffer.concat([Buffer.from('inserted at the start'), big]);
  edited.fill(7, 2_000_000, 2_000_100);
  await writeFile(join(a.dir, 'big.bin'), edited);
  await settle(a, b);
  expect(Buffer.compare(await readFile(join(b.dir, 'big.bin')), edited)).toBe(0);
  expect(b.sync.received.literalBytes - big.length).toBeLessThan(20_000);
});

it('a large file fetched leaves its signature, and the next edit builds on it; a wrong one is dropped', async () => {
  const a = await node('a');
  const b = await node('b');
  const big = randomBytes(3 * 1024 * 1024);
  await writeFile(join(a.dir, 'big.bin'), big);
  await settle(a, b);
  const sigs = join(base, 'b', 'index.sigs');
  // Built once the file is in place, off the fetch's path.
  expect(await signaturesIn(sigs, (names) => names.length === 1)).toHaveLength(1);
  // The cached signature is made to lie (its first two blocks swapped): the fetch that builds
  // on it fails its check, the signature is dropped, and the retry builds on the copy itself.
  const [hash] = await readdir(sigs);
  const lie = await readFile(join(sigs, hash!));
  const first = Buffer.from(lie.subarray(20, 40));
  lie.copy(lie, 20, 40, 60);
  first.copy(lie, 40);
  await writeFile(join(sigs, hash!), lie);
  const edited = Buffer.from(big);
  edited.fill(9, 1_000_000, 1_000_050);
  await writeFile(join(a.dir, 'big.bin'), edited);
  await a.sync.rescan('');
  const signal = new AbortController().signal;
  await expect(b.sync.pullOnce(peerOf(a.sync, 'a'), 0, signal)).rejects.toThrow(
    /changed while it was read/,
  );
  await b.sync.pullOnce(peerOf(a.sync, 'a'), 0, signal);
  expect(Buffer.compare(await readFile(join(b.dir, 'big.bin')), edited)).toBe(0);
  // The new version's signature comes, and replaces the old one, which no file has any more.
  await signaturesIn(sigs, (names) => names.some((n) => n !== hash));
  await b.sync.rescan('');
  expect(await readdir(sigs)).not.toContain(hash);
});

it('concurrent edits keep both versions under the same conflict name on both nodes', async () => {
  const a = await node('a');
  const b = await node('b');
  await writeFile(join(a.dir, 'notes.txt'), 'base');
  await settle(a, b);
  await writeFile(join(a.dir, 'notes.txt'), 'edit on a');
  await writeFile(join(b.dir, 'notes.txt'), 'edit on b, later');
  const later = new Date(Date.now() + 5000);
  const { utimes } = await import('node:fs/promises');
  await utimes(join(b.dir, 'notes.txt'), later, later);
  await settle(a, b);
  for (const n of [a, b]) {
    expect(await readFile(join(n.dir, 'notes.txt'), 'utf8')).toBe('edit on b, later');
    const copies = (await readdir(n.dir)).filter((f) => f.includes('.sync-conflict-'));
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatch(/^notes\.sync-conflict-\d{8}-\d{6}-a-node-\.txt$/);
    expect(await readFile(join(n.dir, copies[0]!), 'utf8')).toBe('edit on a');
  }
  expect(a.sync.status().conflicts).toHaveLength(1);
});

it('an edit wins over a concurrent delete', async () => {
  const a = await node('a');
  const b = await node('b');
  await writeFile(join(a.dir, 'keep.txt'), 'base');
  await settle(a, b);
  await unlink(join(a.dir, 'keep.txt'));
  await writeFile(join(b.dir, 'keep.txt'), 'edited while a deleted it');
  await settle(a, b);
  for (const n of [a, b]) {
    expect(await readFile(join(n.dir, 'keep.txt'), 'utf8')).toBe('edited while a deleted it');
  }
});

it('a file changed here after the last scan is never overwritten by an older pull', async () => {
  const a = await node('a');
  const b = await node('b');
  await writeFile(join(a.dir, 'f.txt'), 'v1');
  await settle(a, b);
  await writeFile(join(a.dir, 'f.txt'), 'v2 on a');
  await a.sync.rescan('');
  // b writes without a scan, then pulls a's v2: b's own write must be kept (as a conflict).
  await writeFile(join(b.dir, 'f.txt'), 'b wrote this unscanned');
  await b.sync.pullOnce(peerOf(a.sync, 'a'), 0, new AbortController().signal);
  const texts = await Promise.all(
    (await readdir(b.dir)).map((f) => readFile(join(b.dir, f), 'utf8')),
  );
  expect(texts).toContain('b wrote this unscanned');
});

it('a version the member no longer has is passed over, and the one it has now follows', async () => {
  const a = await node('a');
  const b = await node('b');
  await writeFile(join(a.dir, 'hot.txt'), 'v1');
  await writeFile(join(a.dir, 'tmp.txt'), 'soon gone');
  await writeFile(join(a.dir, 'calm.txt'), 'calm');
  await a.sync.rescan('');
  // Between a's scan and b's fetch, a's app writes hot.txt again and deletes tmp.txt.
  await writeFile(join(a.dir, 'hot.txt'), 'v2');
  await unlink(join(a.dir, 'tmp.txt'));
  const signal = new AbortController().signal;
  // The round is not held up by either: calm.txt arrives, the stale records are passed over.
  await b.sync.pullOnce(peerOf(a.sync, 'a'), 0, signal);
  expect(await readFile(join(b.dir, 'calm.txt'), 'utf8')).toBe('calm');
  await expect(lstat(join(b.dir, 'hot.txt'))).rejects.toThrow(/ENOENT/);
  // a looks at both again, in the background, for having served them: its feed then carries
  // hot.txt's v2 and tmp.txt's tombstone, and the next round brings them.
  for (let i = 0; i < 200 && a.sync.status().sequence < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await b.sync.pullOnce(peerOf(a.sync, 'a'), 0, signal);
  expect(await readFile(join(b.dir, 'hot.txt'), 'utf8')).toBe('v2');
  await expect(lstat(join(b.dir, 'tmp.txt'))).rejects.toThrow(/ENOENT/);
  expect(a.sync.status().files).toBe(2);
});

it('a new file here that no scan has seen yet is kept when a member sends one at its path', async () => {
  const a = await node('a');
  const b = await node('b');
  await writeFile(join(a.dir, 'new.txt'), 'from a');
  await a.sync.rescan('');
  await writeFile(join(b.dir, 'new.txt'), 'written on b, not scanned');
  const signal = new AbortController().signal;
  await b.sync.pullOnce(peerOf(a.sync, 'a'), 0, signal);
  const texts = await Promise.all(
    (await readdir(b.dir)).map((f) => readFile(join(b.dir, f), 'utf8')),
  );
  expect(texts.sort()).toEqual(['from a', 'written on b, not scanned']);
});

it('serves members only once its index is loaded (a long poll on the placeholder would never end)', async () => {
  const sync = new VolumeSync({
    app: 'web',
    target: '/data',
    dir: join(base, 's', 'data'),
    self: 's-node-id',
    indexFile: join(base, 's', 'index.json'),
    log: silentLogger(),
    rescanMs: 0,
    watch: false,
  });
  const signal = new AbortController().signal;
  const query = { since: 0, epoch: '', limit: 10, waitMs: 0 };
  await expect(sync.changes(query, signal)).rejects.toThrow(/still starting/);
  await sync.start();
  nodes.push(sync);
  await expect(sync.changes(query, signal)).resolves.toMatchObject({ records: [] });
});

it('a node whose index was lost rebuilds it and merges without moving data', async () => {
  const a = await node('a');
  const b = await node('b');
  await writeFile(join(a.dir, 'x.bin'), randomBytes(100_000));
  await settle(a, b);
  const before = a.sync.received.literalBytes + b.sync.received.literalBytes;
  await b.sync.close();
  nodes.splice(nodes.indexOf(b.sync), 1);
  await writeFile(join(base, 'b', 'index.json'), 'not json');
  const b2 = await node('b');
  await settle(a, b2);
  expect(a.sync.received.literalBytes + b2.sync.received.literalBytes).toBe(
    before - b.sync.received.literalBytes,
  );
  expect((await readdir(a.dir)).filter((f) => f.includes('conflict'))).toEqual([]);
});

it('a tombstone goes once every node that runs the app has it, and not before', async () => {
  const a = await node('a');
  const b = await node('b');
  const signal = new AbortController().signal;
  const pull = async (to: typeof a, from: typeof a, fromId: string, toId: string) => {
    // Apart by a tick: "asked after that ack" is decided by the clock's milliseconds.
    await new Promise((r) => setTimeout(r, 5));
    await to.sync.pullOnce(peerOf(from.sync, fromId, toId), 0, signal);
  };
  const feedOfA = async () =>
    (await a.sync.changes({ since: 0, epoch: '', limit: 100, waitMs: 0 }, signal)).records.map(
      (r) => `${r.path}${r.deleted ? ' (deleted)' : ''}`,
    );
  a.sync.setMembers(['b-node-id']);
  b.sync.setMembers(['a-node-id']);
  await writeFile(join(a.dir, 'x.txt'), 'x');
  await a.sync.rescan('');
  await pull(b, a, 'a-node-id', 'b-node-id');
  await unlink(join(a.dir, 'x.txt'));
  await a.sync.rescan('');
  expect(await feedOfA()).toEqual(['x.txt (deleted)']);
  // b has not pulled past it yet.
  expect(await a.sync.collectTombstones()).toBe(0);
  await pull(b, a, 'a-node-id', 'b-node-id'); // b applies the deletion
  await pull(b, a, 'a-node-id', 'b-node-id'); // and says so (its cursor is past it)
  await expect(lstat(join(b.dir, 'x.txt'))).rejects.toThrow(/ENOENT/);
  // b's ack is in, but a has not heard from b since: an older answer of b's, with x.txt's old
  // record, could still be on its way.
  expect(await a.sync.collectTombstones()).toBe(0);
  await pull(a, b, 'b-node-id', 'a-node-id');
  // A node that runs the app and has not acked at all holds it back too.
  a.sync.setMembers(['b-node-id', 'c-node-id']);
  expect(await a.sync.collectTombstones()).toBe(0);
  a.sync.setMembers(['b-node-id']);
  expect(await a.sync.collectTombstones()).toBe(1);
  expect(await feedOfA()).toEqual([]);
  // b's own tombstone comes back to a as an echo and brings nothing back.
  await pull(a, b, 'b-node-id', 'a-node-id');
  await expect(lstat(join(a.dir, 'x.txt'))).rejects.toThrow(/ENOENT/);
  await expect(lstat(join(b.dir, 'x.txt'))).rejects.toThrow(/ENOENT/);
});

it('an app on one node drops its tombstones at once: there is nobody to tell', async () => {
  const a = await node('a');
  await writeFile(join(a.dir, 'x.txt'), 'x');
  await a.sync.rescan('');
  await unlink(join(a.dir, 'x.txt'));
  await a.sync.rescan('');
  expect(await a.sync.collectTombstones()).toBe(1);
  expect(a.sync.status().sequence).toBe(2);
});

it('a file that would leave the disk nearly full is not fetched, and is once there is room', async () => {
  const GiB = 1024 ** 3;
  // A 100 GiB disk with `free` bytes left: the floor is 2 GiB (2% of it).
  let free = 2 * GiB + 1024;
  const statfs: StatFs = () =>
    Promise.resolve({ bsize: 4096, blocks: (100 * GiB) / 4096, bavail: Math.floor(free / 4096) });
  const a = await node('a');
  const b = await node('b', statfs);
  await writeFile(join(a.dir, 'big.bin'), Buffer.alloc(8192, 7));
  await a.sync.rescan('');
  const signal = new AbortController().signal;
  await expect(b.sync.pullOnce(peerOf(a.sync, 'a'), 0, signal)).rejects.toThrow(
    /^sync: no room for big\.bin \(8192 bytes\): \d+ bytes free on the volume's disk, and 2147483648 are kept free$/,
  );
  await expect(lstat(join(b.dir, 'big.bin'))).rejects.toThrow(/ENOENT/);
  free = 10 * GiB;
  await b.sync.pullOnce(peerOf(a.sync, 'a'), 0, signal);
  expect((await stat(join(b.dir, 'big.bin'))).size).toBe(8192);
});

it('a forged record with a traversal path is refused and nothing is written outside', async () => {
  const b = await node('b');
  const forged: SyncPeer = {
    nodeId: 'evil',
    changes: () =>
      Promise.resolve({
        records: [
          {
            path: '../outside.txt',
            kind: 'file',
            mode: 0o644,
            mtimeMs: 0,
            size: 3,
            linkTarget: '',
            hash: 'x',
            deleted: false,
            version: { evil: 1 },
            modifiedBy: 'evil',
            sequence: 1,
          },
        ],
        sequence: 1,
        epoch: 'e',
        more: false,
      }),
    fetch: () => {
      throw new Error('never asked');
    },
    fetchFiles: () => {
      throw new Error('never asked');
    },
  };
  await expect(b.sync.pullOnce(forged, 0, new AbortController().signal)).rejects.toThrow(
    /not a relative path|'\.\.' segment/,
  );
  await expect(lstat(join(base, 'b', 'outside.txt'))).rejects.toThrow(/ENOENT/);
});

it('never writes through a symlink in the volume, nor reads through one a container swapped in', async () => {
  const a = await node('a');
  const b = await node('b');
  const outside = join(base, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'secret'), 'host data');
  await mkdir(join(a.dir, 'd'));
  await writeFile(join(a.dir, 'd', 'f.txt'), 'for d');
  // On b, a container made `d` a link out of the volume before the sync came.
  await symlink(outside, join(b.dir, 'd'));
  await settle(a, b);
  expect(await readdir(outside)).toEqual(['secret']);
  // On a, `d` is swapped for a link to the outside: a's scan does not follow it, and a
  // member asking for d/secret gets nothing.
  await rm(join(a.dir, 'd'), { recursive: true });
  await symlink(outside, join(a.dir, 'd'));
  await a.sync.rescan('');
  const fetch = async () => {
    const items = [];
    for await (const item of a.sync.read(
      'd/secret',
      { blockSize: 700, fileSize: 0, blocks: [] },
      new AbortController().signal,
    )) {
      items.push(item);
    }
    return items;
  };
  // Nothing but "gone": no byte of the file behind the link.
  expect(await fetch()).toEqual([expect.objectContaining({ kind: 'end', gone: true, size: 0 })]);
  expect(a.sync.status().files).toBe(0);
});

it('status shows the round in progress with a member: files and bytes to fetch, and done', async () => {
  const a = await node('a');
  const b = await node('b');
  await writeFile(join(a.dir, 'one.bin'), randomBytes(1000));
  await writeFile(join(a.dir, 'two.bin'), randomBytes(3000));
  await a.sync.rescan('');
  // The member holds back its second file until the test has looked at the status.
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const seen: unknown[] = [];
  const slow: SyncPeer = {
    ...peerOf(a.sync, 'a'),
    fetchFiles: async function* (paths, signal) {
      for await (const file of a.sync.readFiles(paths, signal)) {
        if (paths[file.index] === 'two.bin') {
          seen.push(b.sync.status().peers[0]?.round);
          await held;
        }
        yield file;
      }
    },
  };
  const pulling = b.sync.pullOnce(slow, 0, new AbortController().signal);
  await new Promise((r) => setTimeout(r, 200));
  seen.push(b.sync.status().peers[0]?.round);
  release();
  await pulling;
  expect(seen[0]).toMatchObject({ files: 2, bytes: 4000 });
  expect(seen[1]).toEqual({ files: 2, bytes: 4000, doneFiles: 1, doneBytes: 1000 });
  expect(b.sync.status().peers[0]?.round).toBeUndefined();
});

it('the periodic rescan finds what no watcher reported', async () => {
  const dir = join(base, 'p', 'data');
  const sync = new VolumeSync({
    app: 'web',
    target: '/data',
    dir,
    self: 'p-node-id',
    indexFile: join(base, 'p', 'index.json'),
    log: silentLogger(),
    rescanMs: 50,
    watch: false,
  });
  await sync.start();
  nodes.push(sync);
  await writeFile(join(dir, 'late.txt'), 'found by the rescan');
  const deadline = Date.now() + 5000;
  while (sync.status().files === 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  expect(sync.status()).toMatchObject({ files: 1, bytes: 19 });
});

it('a volume without hard links takes the temp-and-rename way for new small files, and keeps it', async () => {
  const a = await node('a');
  const b = await node('b');
  await writeFile(join(a.dir, 'one.txt'), 'one');
  await a.sync.rescan('');
  // link(2) refused, as on vfat: the job answers "failed" with the system code.
  const placeNew = jest
    .spyOn(FileJobs.prototype, 'placeNew')
    .mockResolvedValue({ kind: 'failed', message: 'link: operation not permitted', code: 'EPERM' });
  try {
    const signal = new AbortController().signal;
    await b.sync.pullOnce(peerOf(a.sync, 'a'), 0, signal);
    expect(await readFile(join(b.dir, 'one.txt'), 'utf8')).toBe('one');
    expect(placeNew).toHaveBeenCalledTimes(1);
    await writeFile(join(a.dir, 'two.txt'), 'two');
    await a.sync.rescan('');
    await b.sync.pullOnce(peerOf(a.sync, 'a'), 0, signal);
    expect(await readFile(join(b.dir, 'two.txt'), 'utf8')).toBe('two');
    // Not asked again: the volume has no hard links.
    expect(placeNew).toHaveBeenCalledTimes(1);
    expect((await readdir(b.dir)).filter((f) => f.startsWith('.budgie-sync-'))).toEqual([]);
  } finally {
    placeNew.mockRestore();
  }
});
