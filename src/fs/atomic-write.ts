import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FsOps } from './types';

/** Temp files are hidden and named after their target, so a sweep after a crash can find them. */
const TEMP_MARK = '.tmp-';

export function isTempFile(file: string): boolean {
  return file.startsWith('.') && file.includes(TEMP_MARK);
}

/**
 * Replaces `path` so that a reader (or the agent after a crash or power cut) sees either the old
 * content or the new, never a mix: write a temp file in the same directory, fsync it, rename it
 * over the target, fsync the directory. On failure the temp file is removed and the old file stays.
 */
export async function writeFileAtomic(
  fs: FsOps,
  path: string,
  data: string,
  mode: number,
): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}${TEMP_MARK}${randomBytes(6).toString('hex')}`);
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(temp, 'wx', mode);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(temp, path);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fs.unlink(temp).catch(() => undefined);
    throw err;
  }
  await syncDir(fs, dir);
}

/** Makes a rename in `dir` durable. */
export async function syncDir(fs: FsOps, dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
