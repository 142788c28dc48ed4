import fc from 'fast-check';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VolumeIndex } from '../../../src/sync/index-store';
import type { SyncRecord } from '../../../src/sync/records';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'budgie-index-'));
  file = join(dir, 'index.json');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function record(path: string, n: number): Omit<SyncRecord, 'sequence'> {
  return {
    path,
    kind: 'file',
    mode: 0o644,
    mtimeMs: 1000 + n,
    size: n,
    linkTarget: '',
    hash: n.toString(16).padStart(64, '0'),
    deleted: false,
    version: { a: n },
    modifiedBy: 'a',
  };
}

const paths = (index: VolumeIndex): string[] => [...index.values()].map((e) => e.record.path);

it('a save appends what changed to the journal; a load replays it in sequence order', async () => {
  const index = VolumeIndex.fresh();
  for (let i = 0; i < 5; i++) index.put(record(`f${i}`, i + 1), undefined);
  await index.save(file); // the first save is a snapshot
  index.put(record('f1', 10), undefined);
  index.peers.set('b', { epoch: 'e', since: 7, sequence: 9, syncedAtMs: 1 });
  await index.save(file);
  const snapshot = await readFile(file, 'utf8');
  const journal = await readFile(`${file}.journal`, 'utf8');
  expect(journal.trimEnd().split('\n')).toHaveLength(3); // id, f1, the cursor
  const { index: loaded, problem } = await VolumeIndex.load(file);
  expect(problem).toBeUndefined();
  expect(loaded.epoch).toBe(index.epoch);
  expect(loaded.sequence).toBe(6);
  expect(paths(loaded)).toEqual(['f0', 'f2', 'f3', 'f4', 'f1']);
  expect(loaded.get('f1')?.record.size).toBe(10);
  expect(loaded.peers.get('b')?.since).toBe(7);
  expect(loaded.withHash(record('f1', 10).hash)).toEqual(['f1']);
  // The snapshot was not rewritten for one change.
  expect(await readFile(file, 'utf8')).toBe(snapshot);
});

it('dropped tombstones and acks survive a save and a load, and the sequence never goes back', async () => {
  const index = VolumeIndex.fresh();
  index.put(record('kept', 1), undefined);
  index.put(record('gone', 2), undefined);
  await index.save(file); // a snapshot; what follows goes to the journal
  index.put({ ...record('gone', 3), deleted: true }, undefined);
  index.put({ ...record('later', 4), deleted: true }, undefined);
  index.acks.set('b', { since: 3, atMs: 5 });
  // Up to sequence 3: the tombstone of 'gone' goes; 'later' (4) is newer than every ack.
  expect(index.dropTombstones(3)).toBe(1);
  expect(paths(index)).toEqual(['kept', 'later']);
  expect(index.changesSince(0, 10).records.map((r) => r.path)).toEqual(['kept', 'later']);
  index.put({ ...record('later', 5), deleted: true }, undefined);
  expect(index.dropTombstones(5)).toBe(1);
  await index.save(file);
  const { index: loaded } = await VolumeIndex.load(file);
  expect(paths(loaded)).toEqual(['kept']);
  // The highest records were dropped: the next one still gets a number no member has seen.
  expect(loaded.sequence).toBe(5);
  expect(loaded.acks.get('b')).toEqual({ since: 3, atMs: 5 });
  // A path put again after its tombstone was dropped is back, in the journal and the feed.
  loaded.put(record('gone', 6), undefined);
  await loaded.save(file);
  const { index: again } = await VolumeIndex.load(file);
  expect(paths(again)).toEqual(['kept', 'gone']);
  expect(again.get('gone')?.record.sequence).toBe(6);
});

it('a torn last journal line (a crash mid-append) ends the replay, the lines before it count', async () => {
  const index = VolumeIndex.fresh();
  index.put(record('a', 1), undefined);
  await index.save(file);
  index.put(record('b', 2), undefined);
  await index.save(file);
  await appendFile(`${file}.journal`, '{"entry":{"record":{"pa');
  const { index: loaded } = await VolumeIndex.load(file);
  expect(paths(loaded)).toEqual(['a', 'b']);
});

it('a journal the snapshot does not name is ignored (a crash between a snapshot and its journal)', async () => {
  const index = VolumeIndex.fresh();
  index.put(record('a', 1), undefined);
  await index.save(file);
  await writeFile(
    `${file}.journal`,
    `${JSON.stringify({ id: 'another' })}\n${JSON.stringify({ entry: { record: { ...record('stale', 9), sequence: 99 } } })}\n`,
  );
  const { index: loaded } = await VolumeIndex.load(file);
  expect(paths(loaded)).toEqual(['a']);
  expect(loaded.sequence).toBe(1);
});

it('folds the journal into a new snapshot once it is as long as the index', async () => {
  const index = VolumeIndex.fresh();
  index.put(record('a', 1), undefined);
  await index.save(file);
  for (let i = 0; i < 1100; i++) {
    index.put(record('a', i + 2), undefined);
    await index.save(file);
  }
  const journal = await readFile(`${file}.journal`, 'utf8');
  expect(journal.trimEnd().split('\n').length).toBeLessThan(1002);
  const { index: loaded } = await VolumeIndex.load(file);
  expect(loaded.get('a')?.record.size).toBe(1101);
  expect(loaded.sequence).toBe(1101);
});

it('an unreadable snapshot starts a new epoch, and says why', async () => {
  await writeFile(file, '{"format": 2}');
  const { index, problem } = await VolumeIndex.load(file);
  expect(problem).toBe('not an index');
  expect(index.size).toBe(0);
});

it('the feed past any cursor is every current record above it, in order, whatever was put again', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 3000 }),
      fc.integer({ min: 0, max: 3000 }),
      fc.integer({ min: 1, max: 50 }),
      (puts, since, limit) => {
        const index = VolumeIndex.fresh();
        puts.forEach((p, n) => index.put(record(`f${p}`, n), undefined));
        const current = [...index.values()]
          .map((e) => e.record)
          .filter((r) => r.sequence > since)
          .sort((a, b) => a.sequence - b.sequence);
        const got = index.changesSince(since, limit);
        expect(got.records).toEqual(current.slice(0, limit));
        expect(got.more).toBe(current.length > limit);
      },
    ),
    { numRuns: 200 },
  );
});
