import { constants } from 'node:fs';
import { lstat, open, readdir, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { UnavailableError } from '../errors';
import { linkStaysInside } from './paths';
import type { SnapshotItem, VolumeEntry } from './snapshot-types';

/** Small enough for a gRPC message with room to spare, large enough to keep the link busy. */
export const CHUNK_BYTES = 256 * 1024;

/**
 * A volume's source directory as a snapshot stream: each entry (parents first, names sorted) and
 * after a file's entry exactly `size` bytes of it in chunks. Nothing below the root is followed:
 * symlinks are sent as links, and only when they stay inside the volume; sockets, fifos and
 * devices are skipped (they are not data). A missing root is an empty volume.
 */
export async function* readSnapshot(
  source: string,
  signal: AbortSignal,
): AsyncGenerator<SnapshotItem> {
  let root: string;
  try {
    // The root itself is the app's declared path, which the bind mount follows too.
    root = await realpath(source);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!(await lstat(root)).isDirectory()) {
    throw new UnavailableError(`volume source ${source} is not a directory`);
  }
  yield* walk(root, '', signal);
}

async function* walk(root: string, dir: string, signal: AbortSignal): AsyncGenerator<SnapshotItem> {
  const names = (await readdir(join(root, dir))).sort();
  for (const name of names) {
    if (signal.aborted) return;
    const path = dir === '' ? name : `${dir}/${name}`;
    const abs = join(root, path);
    let st;
    try {
      st = await lstat(abs);
    } catch (err) {
      // Removed since the listing: the snapshot is of what exists while it is taken.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const base = { path, mode: st.mode & 0o7777, mtimeMs: Math.floor(st.mtimeMs) };
    if (st.isDirectory()) {
      yield { entry: { ...base, kind: 'dir', size: 0, linkTarget: '' } };
      yield* walk(root, path, signal);
    } else if (st.isSymbolicLink()) {
      const target = await readlink(abs);
      if (!linkStaysInside(path, target)) continue;
      yield { entry: { ...base, kind: 'symlink', size: 0, linkTarget: target } };
    } else if (st.isFile()) {
      yield* file(abs, path, base, signal);
    }
  }
}

async function* file(
  abs: string,
  path: string,
  base: Pick<VolumeEntry, 'path' | 'mode' | 'mtimeMs'>,
  signal: AbortSignal,
): AsyncGenerator<SnapshotItem> {
  // O_NOFOLLOW: a file swapped for a symlink since lstat must not be read through.
  const fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    // The size of the open file, not of the earlier lstat, is what the receiver is promised.
    const size = (await fh.stat()).size;
    yield { entry: { ...base, kind: 'file', size, linkTarget: '' } };
    let sent = 0;
    while (sent < size) {
      if (signal.aborted) return;
      const buffer = Buffer.alloc(Math.min(CHUNK_BYTES, size - sent));
      const { bytesRead } = await fh.read(buffer, 0, buffer.length, sent);
      if (bytesRead === 0) {
        // Truncated while sent: the receiver would wait for bytes that never come.
        throw new UnavailableError(`volume file ${path} shrank while it was copied; try again`);
      }
      sent += bytesRead;
      yield { data: buffer.subarray(0, bytesRead) };
    }
  } finally {
    await fh.close();
  }
}
