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

/** Starts a watch and collects what it reports until `want` is among the paths. */
async function sees(
  want: string,
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
      if (paths.includes(want) || paths.includes('')) resolveSeen();
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
  const got = await sees('sub/a.txt', async () => {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'a.txt'), 'x');
  });
  expect(got).toEqual({ kind: 'parcel', fallback: [] });
});

it("falls back to Node's watcher, and says why, when the native one cannot load", async () => {
  await mkdir(join(dir, 'sub'));
  const got = await sees(
    'sub/b.txt',
    () => writeFile(join(dir, 'sub', 'b.txt'), 'y'),
    () => Promise.resolve(new Error('No prebuild of @parcel/watcher')),
  );
  expect(got).toEqual({ kind: 'node', fallback: ['No prebuild of @parcel/watcher'] });
});
