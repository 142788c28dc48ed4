import { watch } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { TEMP_PREFIX } from './scanner';

/** Paths that changed under a watched root, relative to it; '' means "look at everything". */
export type ChangedPaths = (paths: readonly string[]) => void;

export interface TreeWatch {
  /** Which watcher runs: the native one, or Node's own when the native one cannot load. */
  readonly kind: 'parcel' | 'node';
  close(): Promise<void>;
}

/** More events than this in one batch: one full scan is cheaper than many small ones. */
const MAX_PATHS = 256;
/** Node's watcher reports one event at a time: gather them this long into one batch. */
const BATCH_MS = 20;

export type ParcelWatcher = typeof import('@parcel/watcher');
let parcel: Promise<ParcelWatcher | Error> | undefined;

/**
 * The native watcher, loaded on first use: its binary is per platform, and a release package or
 * a standalone executable may not carry one for this machine. Then Node's own watcher stands in.
 */
function loadParcel(): Promise<ParcelWatcher | Error> {
  parcel ??= import('@parcel/watcher').catch((err: unknown) =>
    err instanceof Error ? err : new Error(String(err)),
  );
  return parcel;
}

/**
 * A recursive watch of a volume, with @parcel/watcher: inotify underneath, native, maintained
 * (VS Code and Parcel run on it), and it coalesces a burst of events into one batch. Node 20's
 * own recursive fs.watch on Linux walks and re-watches directories in JavaScript and has missed
 * events in subtrees created after it started (nodejs/node#48437); it is the fallback only. A
 * watcher is a hint, never the truth: the engine rescans periodically as well, and whatever path
 * an event names is looked at afresh.
 */
export async function watchTree(
  dir: string,
  onPaths: ChangedPaths,
  onError: (err: Error) => void,
  onFallback: (reason: string) => void,
  native: () => Promise<ParcelWatcher | Error> = loadParcel,
): Promise<TreeWatch> {
  const root = await realpath(dir);
  const batch = (absolute: readonly string[]): void => {
    const paths = new Set<string>();
    for (const path of absolute) {
      const rel = relative(root, path).split(sep).join('/');
      if (rel === '' || rel.startsWith('..')) paths.add('');
      else if (!rel.split('/').some((s) => s.startsWith(TEMP_PREFIX))) paths.add(rel);
    }
    if (paths.size === 0) return;
    onPaths(paths.has('') || paths.size > MAX_PATHS ? [''] : [...paths]);
  };
  const loaded = await native();
  if (loaded instanceof Error) {
    onFallback(loaded.message);
    return nodeWatch(root, batch, onError);
  }
  const subscription = await loaded.subscribe(
    root,
    (err, events) => {
      if (err !== null) onError(err);
      else batch(events.map((e) => e.path));
    },
    { ignore: [`**/${TEMP_PREFIX}*`] },
  );
  return { kind: 'parcel', close: () => subscription.unsubscribe() };
}

function nodeWatch(
  root: string,
  batch: (absolute: readonly string[]) => void,
  onError: (err: Error) => void,
): TreeWatch {
  let pending: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(root, { recursive: true }, (_event, name) => {
    // No name: the platform could not say which entry changed.
    pending.push(name === null ? root : `${root}${sep}${name}`);
    timer ??= setTimeout(() => {
      timer = undefined;
      const paths = pending;
      pending = [];
      batch(paths);
    }, BATCH_MS);
  });
  watcher.on('error', onError);
  return {
    kind: 'node',
    close: () => {
      if (timer !== undefined) clearTimeout(timer);
      watcher.close();
      return Promise.resolve();
    },
  };
}
