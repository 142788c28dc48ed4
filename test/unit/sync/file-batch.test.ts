import { InvalidInputError, UnavailableError } from '../../../src/errors';
import { FileBatch } from '../../../src/sync/file-batch';
import { MAX_FETCH_FILES, type SyncPeer, type WholeFile } from '../../../src/sync/transfer';

/** What one fetchFiles call answers, given the paths it was asked for. */
type Answer = (paths: readonly string[]) => AsyncIterable<WholeFile>;

interface FakePeer extends SyncPeer {
  /** The paths of each fetchFiles call, in order. */
  calls: string[][];
  signals: AbortSignal[];
}

/** A member whose fetchFiles answers with `answer` (by default: every path, in order). */
function fakePeer(answer: Answer = everyPath): FakePeer {
  const calls: string[][] = [];
  const signals: AbortSignal[] = [];
  return {
    nodeId: 'member',
    calls,
    signals,
    changes: () => Promise.reject(new Error('not used')),
    fetch: () => {
      throw new Error('not used');
    },
    fetchFiles: (paths, signal) => {
      calls.push([...paths]);
      signals.push(signal);
      return answer(paths);
    },
  };
}

/** The file a member would send for `path`, the `index`th asked for. */
function fileFor(path: string, index: number): WholeFile {
  const data = Buffer.from(`content of ${path}`);
  return { index, status: 'ok', data, hash: `hash-${path}`, mode: 0o644, mtimeMs: 1000 + index };
}

/** A message's way over the network: it comes in a later turn of the event loop. */
const arrive = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function* everyPath(paths: readonly string[]): AsyncGenerator<WholeFile> {
  for (const [i, path] of paths.entries()) {
    await arrive();
    yield fileFor(path, i);
  }
}

/** Answers only these indexes, in this order, then ends the stream. */
const only = (...indexes: number[]): Answer =>
  async function* (paths) {
    for (const i of indexes) {
      await arrive();
      yield fileFor(paths[i] ?? `#${i}`, i);
    }
  };

/** Each promise's outcome, without failing on a rejection. */
const outcomes = <T>(promises: Promise<T>[]): Promise<PromiseSettledResult<T>[]> =>
  Promise.allSettled(promises);

const signal = new AbortController().signal;

it('sends the gets of one tick as one fetchFiles, with every path in order', async () => {
  const peer = fakePeer();
  const batch = new FileBatch(peer, signal);
  const paths = ['a.txt', 'dir/b.txt', 'c'];

  const files = await Promise.all(paths.map((p) => batch.get(p)));

  expect(peer.calls).toEqual([paths]);
  expect(peer.signals).toEqual([signal]);
  expect(files).toEqual(paths.map((p, i) => fileFor(p, i)));
});

it('waits for the tick to end before it sends', async () => {
  const peer = fakePeer();
  const batch = new FileBatch(peer, signal);

  const first = batch.get('a');
  const second = batch.get('b');
  expect(peer.calls).toEqual([]);

  await Promise.all([first, second]);
  expect(peer.calls).toEqual([['a', 'b']]);
});

it('sends the gets of different ticks as different fetchFiles', async () => {
  const peer = fakePeer();
  const batch = new FileBatch(peer, signal);

  const a = await batch.get('a');
  const [b, c] = await Promise.all([batch.get('b'), batch.get('c')]);

  expect(peer.calls).toEqual([['a'], ['b', 'c']]);
  expect([a.data.toString(), b.data.toString(), c.data.toString()]).toEqual([
    'content of a',
    'content of b',
    'content of c',
  ]);
});

it('gives each caller its own file, whatever the order of the answers', async () => {
  const peer = fakePeer(only(3, 0, 2, 1));
  const batch = new FileBatch(peer, signal);
  const paths = ['zero', 'one', 'two', 'three'];

  const files = await Promise.all(paths.map((p) => batch.get(p)));

  expect(files.map((f) => f.index)).toEqual([0, 1, 2, 3]);
  expect(files.map((f) => f.data.toString())).toEqual(paths.map((p) => `content of ${p}`));
});

it('hands each caller the answer for its path as is: gone and large included', async () => {
  const peer = fakePeer(async function* () {
    await arrive();
    yield { index: 1, status: 'large', data: Buffer.alloc(0), hash: '', mode: 0, mtimeMs: 0 };
    yield { index: 0, status: 'gone', data: Buffer.alloc(0), hash: '', mode: 0, mtimeMs: 0 };
  });
  const batch = new FileBatch(peer, signal);

  const [gone, large] = await Promise.all([batch.get('gone'), batch.get('large')]);

  expect(gone.status).toBe('gone');
  expect(large.status).toBe('large');
});

it(`splits more than ${MAX_FETCH_FILES} gets of one tick into fetchFiles of at most that`, async () => {
  const peer = fakePeer();
  const batch = new FileBatch(peer, signal);
  const paths = Array.from({ length: 2 * MAX_FETCH_FILES + 22 }, (_, i) => `f${i}`);

  const files = await Promise.all(paths.map((p) => batch.get(p)));

  expect(peer.calls.map((c) => c.length)).toEqual([MAX_FETCH_FILES, MAX_FETCH_FILES, 22]);
  expect(peer.calls.flat()).toEqual(paths);
  // Each caller has the file of its own path, though its index is within its own call.
  expect(files.map((f) => f.data.toString())).toEqual(paths.map((p) => `content of ${p}`));
  expect(files[MAX_FETCH_FILES]?.index).toBe(0);
});

it(`sends a full batch of ${MAX_FETCH_FILES} at once, without waiting for the tick`, async () => {
  const peer = fakePeer();
  const batch = new FileBatch(peer, signal);
  const paths = Array.from({ length: MAX_FETCH_FILES + 1 }, (_, i) => `f${i}`);

  const gets = paths.map((p) => batch.get(p));

  expect(peer.calls).toEqual([paths.slice(0, MAX_FETCH_FILES)]);
  await Promise.all(gets);
  expect(peer.calls).toEqual([paths.slice(0, MAX_FETCH_FILES), [paths[MAX_FETCH_FILES]]]);
});

it('rejects the callers a stream that ends early did not answer, and only them', async () => {
  const peer = fakePeer(only(0, 2));
  const batch = new FileBatch(peer, signal);

  const results = await outcomes(['a', 'b', 'c', 'd'].map((p) => batch.get(p)));

  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
  expect(results[0]).toMatchObject({ value: { index: 0, data: Buffer.from('content of a') } });
  expect(results[2]).toMatchObject({ value: { index: 2, data: Buffer.from('content of c') } });
  for (const [i, path] of [
    [1, 'b'],
    [3, 'd'],
  ] as const) {
    const reason: unknown = results[i]?.status === 'rejected' ? results[i].reason : undefined;
    expect(reason).toBeInstanceOf(UnavailableError);
    expect(reason).toMatchObject({ message: expect.stringContaining('broke off') });
    expect(reason).toMatchObject({ message: expect.stringContaining(path) });
  }
});

it('rejects every caller when the stream ends without an answer', async () => {
  const peer = fakePeer(only());
  const batch = new FileBatch(peer, signal);

  const results = await outcomes([batch.get('a'), batch.get('b')]);

  expect(results).toEqual([
    {
      status: 'rejected',
      reason: expect.objectContaining({ message: expect.stringMatching(/broke off/) }),
    },
    {
      status: 'rejected',
      reason: expect.objectContaining({ message: expect.stringMatching(/broke off/) }),
    },
  ]);
});

it.each<[string, number[]]>([
  ['a second answer for the same index', [0, 1, 0]],
  ['an index past the paths asked for', [0, 1, 3]],
  ['a negative index', [0, 1, -1]],
  ['an index that is not an integer', [0, 1, 0.5]],
])('refuses %s: the callers not yet answered are rejected', async (_what, indexes) => {
  const peer = fakePeer(async function* (paths) {
    for (const [n, i] of indexes.entries()) {
      const file = fileFor(paths[Math.trunc(i)] ?? 'x', i);
      await arrive();
      // The bad answer (the last) carries other bytes: they must reach no caller.
      yield n === indexes.length - 1 ? { ...file, data: Buffer.from('forged') } : file;
    }
  });
  const batch = new FileBatch(peer, signal);

  const results = await outcomes(['a', 'b', 'c'].map((p) => batch.get(p)));

  // The answers before the bad one stand, unchanged by a later one for the same index.
  expect(results[0]).toEqual({ status: 'fulfilled', value: fileFor('a', 0) });
  expect(results[1]).toEqual({ status: 'fulfilled', value: fileFor('b', 1) });
  expect(results[2]?.status).toBe('rejected');
  expect(results[2]?.status === 'rejected' && results[2].reason).toBeInstanceOf(InvalidInputError);
});

it('stops reading a stream after a bad answer', async () => {
  let pulledAfter = false;
  const peer = fakePeer(async function* (paths) {
    await arrive();
    yield fileFor(paths[0] ?? '', 0);
    yield fileFor(paths[0] ?? '', 0);
    pulledAfter = true;
    yield fileFor(paths[1] ?? '', 1);
  });
  const batch = new FileBatch(peer, signal);

  const results = await outcomes([batch.get('a'), batch.get('b')]);

  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
  expect(pulledAfter).toBe(false);
});

it('rejects every caller of the batch with the error of a fetchFiles that throws', async () => {
  const failure = new UnavailableError('member unreachable');
  const peer = fakePeer(() => {
    throw failure;
  });
  const batch = new FileBatch(peer, signal);

  const results = await outcomes(['a', 'b', 'c'].map((p) => batch.get(p)));

  expect(results).toEqual([
    { status: 'rejected', reason: failure },
    { status: 'rejected', reason: failure },
    { status: 'rejected', reason: failure },
  ]);
});

it('rejects the callers not yet answered with the error of a stream that fails midway', async () => {
  const failure = new UnavailableError('stream reset');
  const peer = fakePeer(async function* (paths) {
    await arrive();
    yield fileFor(paths[1] ?? '', 1);
    await arrive();
    throw failure;
  });
  const batch = new FileBatch(peer, signal);

  const results = await outcomes(['a', 'b', 'c'].map((p) => batch.get(p)));

  expect(results).toEqual([
    { status: 'rejected', reason: failure },
    { status: 'fulfilled', value: fileFor('b', 1) },
    { status: 'rejected', reason: failure },
  ]);
});

it('a failed batch does not touch the next one', async () => {
  let call = 0;
  const peer = fakePeer((paths) => {
    call++;
    if (call === 1) throw new UnavailableError('first call fails');
    return everyPath(paths);
  });
  const batch = new FileBatch(peer, signal);

  await expect(batch.get('a')).rejects.toThrow('first call fails');
  await expect(batch.get('b')).resolves.toEqual(fileFor('b', 0));
  expect(peer.calls).toEqual([['a'], ['b']]);
});

it('in a split tick, a failing fetchFiles rejects only the callers of its own batch', async () => {
  const peer = fakePeer((paths) => {
    if (paths[0] === 'f0') throw new UnavailableError('first batch fails');
    return everyPath(paths);
  });
  const batch = new FileBatch(peer, signal);
  const paths = Array.from({ length: MAX_FETCH_FILES + 3 }, (_, i) => `f${i}`);

  const results = await outcomes(paths.map((p) => batch.get(p)));

  expect(results.slice(0, MAX_FETCH_FILES).every((r) => r.status === 'rejected')).toBe(true);
  expect(results.slice(MAX_FETCH_FILES)).toEqual([
    { status: 'fulfilled', value: fileFor(`f${MAX_FETCH_FILES}`, 0) },
    { status: 'fulfilled', value: fileFor(`f${MAX_FETCH_FILES + 1}`, 1) },
    { status: 'fulfilled', value: fileFor(`f${MAX_FETCH_FILES + 2}`, 2) },
  ]);
});
