import { subscribe } from '@parcel/watcher';
import { realpath } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { TEMP_PREFIX } from './scanner';

/** Paths that changed under a watched root, relative to it; '' means "look at everything". */
export type ChangedPaths = (paths: readonly string[]) => void;

/** More events than this in one batch: one full scan is cheaper than many small ones. */
const MAX_PATHS = 256;

/**
 * A recursive watch of a volume, with @parcel/watcher: inotify underneath, native, maintained
 * (VS Code and Parcel run on it), and it coalesces a burst of events into one batch. Node 20's
 * own recursive fs.watch on Linux walks and re-watches directories in JavaScript and has missed
 * events in subtrees created after it started. A watcher is a hint, never the truth: the engine
 * rescans periodically as well, and whatever path an event names is looked at afresh.
 */
export async function watchTree(
  dir: string,
  onPaths: ChangedPaths,
  onError: (err: Error) => void,
): Promise<{ close(): Promise<void> }> {
  const root = await realpath(dir);
  const subscription = await subscribe(
    root,
    (err, events) => {
      if (err !== null) {
        onError(err);
        return;
      }
      const paths = new Set<string>();
      for (const event of events) {
        const rel = relative(root, event.path).split(sep).join('/');
        if (rel === '' || rel.startsWith('..')) paths.add('');
        else if (!rel.split('/').some((s) => s.startsWith(TEMP_PREFIX))) paths.add(rel);
      }
      if (paths.size === 0) return;
      onPaths(paths.has('') || paths.size > MAX_PATHS ? [''] : [...paths]);
    },
    { ignore: [`**/${TEMP_PREFIX}*`] },
  );
  return { close: () => subscription.unsubscribe() };
}
