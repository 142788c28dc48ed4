import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchTree, type TreeWatch } from '../../../src/sync/watcher';

let dir: string;
beforeEach(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'budgie-watch-')));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Starts a watch and collects what it reports until one of `want` is among the paths (a
 * directory reported covers what is in it: the engine scans what a watcher names, recursively).
 */
async function sees(
  want: string | readonly string[],
  change: () => Promise<void>,
  native?: () => Promise<Error>,
): Promise<{ kind: TreeWatch['kind']; fallback: string[] }> {
  const fallback: string[] = [];
  let resolveSeen: () => void = () => undefined;
  const seen = new Promise<void>((resolve) => {
    resolveSeen = resolve;
  });
  const watch = await watchTree(
    dir,
    (paths) => {
      const wanted = typeof want === 'string' ? [want] : want;
      if (paths.some((p) => p === '' || wanted.includes(p))) resolveSeen();
    },
    (err) => {
      throw err;
    },
    (reason) => fallback.push(reason),
    ...(native === undefined ? [] : [native]),
  );
  try {
    await change();
    await seen;
    return { kind: watch.kind, fallback };
  } finally {
    await watch.close();
  }
}

it('reports changed paths relative to the volume, natively', async () => {
  // A file written right after its directory is made may come before inotify watches the new
  // directory: then the directory alone is reported, which is as good.
  const got = await sees(['sub/a.txt', 'sub'], async () => {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'a.txt'), 'x');
  });
  expect(got).toEqual({ kind: 'parcel', fallback: [] });
}, 15_000);

it("falls back to Node's watcher, and says why, when the native one cannot load", async () => {
  await mkdir(join(dir, 'sub'));
  const got = await sees(
    'sub/b.txt',
    () => writeFile(join(dir, 'sub', 'b.txt'), 'y'),
    () => Promise.resolve(new Error('No prebuild of @parcel/watcher')),
  );
  expect(got).toEqual({ kind: 'node', fallback: ['No prebuild of @parcel/watcher'] });
});
