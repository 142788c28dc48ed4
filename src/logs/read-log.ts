import { open, stat, type FileHandle } from 'node:fs/promises';
import { hasCode } from '../fs';
import { NotFoundError } from '../errors';
import { ChangeWatch } from './change-watch';
import { lineStart, readAt, tailStart } from './tail';

export interface ReadLogOptions {
  /** The last N lines only; 0 or absent for all. */
  tail?: number;
  /** Start no earlier than the line holding this byte offset (`budgie logs --since`). */
  from?: number;
  /** Keep reading as the file grows, until `signal` aborts. */
  follow?: boolean;
  signal: AbortSignal;
  /** Throw NotFoundError for a missing file instead of yielding nothing (or, following, waiting). */
  mustExist?: boolean;
  /** Polling interval when following, for when file watching misses a change. */
  pollMs?: number;
  /** Read size, backwards for the tail and forwards for the rest. */
  blockSize?: number;
}

const DEFAULT_POLL_MS = 500;
const DEFAULT_BLOCK_SIZE = 64 * 1024;

/**
 * The bytes of a container's log file, in chunks. Following, it waits for the file to appear,
 * starts again from the top when it is truncated, keeps reading a file that was renamed away until
 * another takes its name, then finishes the old one and moves to the new one and ends, without an error, when `signal` aborts.
 */
export async function* readLog(path: string, options: ReadLogOptions): AsyncGenerator<Buffer> {
  const { signal, follow = false, tail = 0 } = options;
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  // A function, not the property: TypeScript would keep the narrowing from the first check.
  const aborted = (): boolean => signal.aborted;
  if (aborted()) return;
  let handle = await openIfExists(path);
  if (handle === undefined && options.mustExist === true) {
    throw new NotFoundError(`log file ${path} does not exist`);
  }
  const watch = follow ? new ChangeWatch(path, options.pollMs ?? DEFAULT_POLL_MS) : undefined;
  try {
    let position = 0;
    let end = Infinity;
    if (handle !== undefined) {
      const { size } = await handle.stat();
      position = await tailStart(handle, size, tail, blockSize);
      const from = Math.min(options.from ?? 0, size);
      if (from > position) position = await lineStart(handle, from, blockSize);
      if (!follow) end = size; // a snapshot: a busy log must not keep it going
    }
    for (;;) {
      while (handle !== undefined && position < end && !aborted()) {
        const chunk = await readAt(handle, position, Math.min(blockSize, end - position));
        if (chunk.length === 0) break;
        position += chunk.length;
        yield chunk;
      }
      if (watch === undefined || aborted()) return;
      await watch.wait(signal);
      if (aborted()) return;
      const current = await statIfExists(path);
      if (handle === undefined) {
        if (current !== undefined) handle = await openIfExists(path);
        continue;
      }
      const own = await handle.stat();
      if (current === undefined) {
        // Renamed away or deleted, nothing new yet: a writer may still append to the old file
        // (rotation renames first and reopens later), so keep reading it until a new one appears.
        continue;
      }
      if (current.ino !== own.ino || current.dev !== own.dev) {
        // Replaced: finish the old file, then follow the one that took its name.
        for (;;) {
          const chunk = await readAt(handle, position, blockSize);
          if (chunk.length === 0 || aborted()) break;
          position += chunk.length;
          yield chunk;
        }
        await handle.close();
        handle = await openIfExists(path);
        position = 0;
      } else if (own.size < position) {
        position = 0; // truncated
      }
    }
  } finally {
    watch?.close();
    await handle?.close();
  }
}

async function openIfExists(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if (hasCode(err, 'ENOENT')) return undefined;
    throw err;
  }
}

async function statIfExists(path: string): Promise<{ ino: number; dev: number } | undefined> {
  try {
    return await stat(path);
  } catch (err) {
    if (hasCode(err, 'ENOENT')) return undefined;
    throw err;
  }
}
