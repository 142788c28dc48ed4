import type { Stats } from 'node:fs';
import { constants } from 'node:fs';
import { Dir, hasCode, parentOf } from '../fs';
import { checkEntryPath, linkStaysInside } from '../volumes/paths';
import { ContentHash } from './content-hash';
import type { VolumeIndex } from './index-store';
import { SYNC_MODE_MASK, type LocalStamp, type SyncKind, type SyncRecord } from './records';
import { bumpVersion } from './version';

/** Files the engine writes before renaming them into place; never part of the volume. */
export const TEMP_PREFIX = '.budgie-sync-';
const READ_BYTES = 1024 * 1024;
/**
 * How recent an mtime makes a stamp racy. File times come from the kernel's coarse clock (a
 * tick of 1 to 10 ms) or, on some file systems, in whole seconds: a second covers both.
 */
const RACY_MS = 1000;

export interface ScanStats {
  /** Paths recorded as changed (new versions). */
  changed: number;
  /** Bytes read to hash files whose metadata changed. */
  hashedBytes: number;
}

export interface ScanOptions {
  /** Read every file, whatever its stamp says. */
  rehash?: boolean;
  /** Files hashed beforehand (see `prehash`): used while the file's stamp is still the same. */
  known?: ReadonlyMap<string, Hashed>;
}

/** A file's content hash, and the stamp it was read at. */
export interface Hashed {
  stamp: LocalStamp;
  hash: string;
}

/**
 * Brings the index in line with the disk under `prefix` ('' for the whole volume): new and
 * changed paths get a new version by `self`, vanished ones a tombstone. A file whose metadata
 * (inode, size, mtime, ctime, mode) matches its stamp is not read again. Everything is opened
 * through held directory descriptors, never through a symlink, so a container that swaps parts
 * of the tree while it is scanned cannot make the agent read outside the volume.
 */
export async function scan(
  root: Dir,
  index: VolumeIndex,
  self: string,
  prefix = '',
  options: ScanOptions = {},
): Promise<ScanStats> {
  const stats: ScanStats = { changed: 0, hashedBytes: 0 };
  const seen = new Set<string>();
  const observer = new Observer(index, self, stats, seen, options);
  if (prefix === '') {
    await observer.walk(root, '');
  } else {
    const segments = checkEntryPath(prefix);
    const parent = await parentOf(root, segments, false);
    if (parent !== undefined) {
      try {
        const name = segments[segments.length - 1] ?? '';
        const st = await parent.lstat(name);
        if (st !== undefined && (await observer.observe(parent, name, prefix, st))) {
          const sub = await openDir(parent, name);
          if (sub !== undefined) {
            try {
              await observer.walk(sub, prefix);
            } finally {
              await sub.close();
            }
          }
        }
      } finally {
        await parent.close();
      }
    }
  }
  // A file's own path: only its record can be gone, unless it was a directory until now.
  const single = prefix !== '' && index.get(prefix)?.record.kind !== 'dir';
  const candidates = single
    ? [index.get(prefix)?.record].filter((r) => r !== undefined)
    : [...index.values()].map((e) => e.record);
  // Deepest first, so that a member removes a directory's children before the directory.
  const gone = candidates
    .filter((r) => !r.deleted && !seen.has(r.path) && under(r.path, prefix))
    .sort((a, b) => depth(b.path) - depth(a.path));
  for (const record of gone) {
    index.put(
      {
        ...record,
        deleted: true,
        size: 0,
        hash: '',
        linkTarget: '',
        version: bumpVersion(record.version, self),
        modifiedBy: self,
      },
      undefined,
    );
    stats.changed++;
  }
  return stats;
}

/**
 * The paths a full scan would look at again, found without changing anything: entries whose
 * stamp differs from the index's (new ones included; a new directory is named alone, not what
 * is in it) and indexed paths that are gone. Meant to run outside the volume's lock, so that a
 * periodic rescan of a large volume does not hold up syncing for its whole walk: only these
 * paths are then scanned under the lock. A path that changes after it was passed over is the
 * watcher's, or the next rescan's.
 */
export async function suspects(root: Dir, index: VolumeIndex): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = async (dir: Dir, prefix: string): Promise<void> => {
    let names: string[];
    try {
      names = await dir.list();
    } catch (err) {
      if (hasCode(err, 'ENOENT')) return;
      throw err;
    }
    for (const name of names) {
      if (name.startsWith(TEMP_PREFIX)) continue;
      const path = prefix === '' ? name : `${prefix}/${name}`;
      const st = await dir.lstat(name);
      if (st === undefined) continue;
      seen.add(path);
      const entry = index.get(path);
      const live = entry !== undefined && !entry.record.deleted ? entry.record : undefined;
      if (st.isDirectory()) {
        if (live?.kind !== 'dir' || live.mode !== (st.mode & SYNC_MODE_MASK)) out.push(path);
        // A directory new here is scanned whole, under the lock; nothing in it is indexed yet.
        if (live?.kind !== 'dir') continue;
        const sub = await openDir(dir, name);
        if (sub === undefined) continue;
        try {
          await walk(sub, path);
        } finally {
          await sub.close();
        }
      } else if (
        (st.isFile() || st.isSymbolicLink()) &&
        (live === undefined || !trusted(entry?.stamp, stampOf(st)))
      ) {
        out.push(path);
      }
    }
  };
  await walk(root, '');
  for (const { record } of index.values()) {
    if (!record.deleted && !seen.has(record.path)) out.push(record.path);
  }
  return out;
}

function under(path: string, prefix: string): boolean {
  return prefix === '' || path === prefix || path.startsWith(`${prefix}/`);
}

function depth(path: string): number {
  return path.split('/').length;
}

async function openDir(parent: Dir, name: string): Promise<Dir | undefined> {
  try {
    return await parent.dir(name);
  } catch (err) {
    // Replaced since its lstat (by a file, or a symlink: ELOOP): the next scan sees what it is.
    if (hasCode(err, 'ENOENT') || hasCode(err, 'ENOTDIR') || hasCode(err, 'ELOOP')) {
      return undefined;
    }
    throw err;
  }
}

/**
 * What `st` says of a path, to tell later whether it changed. With `readAt`, a time taken before
 * `st` was read, a file whose mtime is that recent is marked racy (see LocalStamp).
 */
export function stampOf(st: Stats, readAt?: number): LocalStamp {
  const stamp: LocalStamp = {
    ino: st.ino,
    size: st.size,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    mode: st.mode & 0o7777,
  };
  if (readAt !== undefined && st.isFile() && st.mtimeMs > readAt - RACY_MS) stamp.racy = true;
  return stamp;
}

/** Whether a scan may skip reading a file: the same stamp, and not a racy one. */
function trusted(indexed: LocalStamp | undefined, now: LocalStamp): boolean {
  return indexed?.racy !== true && sameStamp(indexed, now);
}

export function sameStamp(a: LocalStamp | undefined, b: LocalStamp): boolean {
  return (
    a !== undefined &&
    a.ino === b.ino &&
    a.size === b.size &&
    a.mtimeMs === b.mtimeMs &&
    a.ctimeMs === b.ctimeMs &&
    a.mode === b.mode
  );
}

class Observer {
  constructor(
    private readonly index: VolumeIndex,
    private readonly self: string,
    private readonly stats: ScanStats,
    private readonly seen: Set<string>,
    private readonly options: ScanOptions,
  ) {}

  async walk(dir: Dir, prefix: string): Promise<void> {
    let names: string[];
    try {
      names = (await dir.list()).sort();
    } catch (err) {
      if (hasCode(err, 'ENOENT')) return;
      throw err;
    }
    for (const name of names) {
      if (name.startsWith(TEMP_PREFIX)) continue;
      const path = prefix === '' ? name : `${prefix}/${name}`;
      const st = await dir.lstat(name);
      if (st === undefined) continue;
      if (!(await this.observe(dir, name, path, st))) continue;
      const sub = await openDir(dir, name);
      if (sub === undefined) continue;
      try {
        await this.walk(sub, path);
      } finally {
        await sub.close();
      }
    }
  }

  /** Records one entry if it changed; true when it is a directory to descend into. */
  async observe(dir: Dir, name: string, path: string, st: Stats): Promise<boolean> {
    const entry = this.index.get(path);
    const live = entry !== undefined && !entry.record.deleted ? entry.record : undefined;
    const stamp = stampOf(st);
    const mode = st.mode & SYNC_MODE_MASK;
    const base = { path, mode, mtimeMs: Math.floor(st.mtimeMs), size: 0, linkTarget: '', hash: '' };
    if (st.isDirectory()) {
      this.seen.add(path);
      if (live?.kind === 'dir' && live.mode === mode) this.index.restamp(path, stamp);
      else this.record(entry?.record, { ...base, kind: 'dir' }, stamp);
      return true;
    }
    if (st.isSymbolicLink()) {
      const target = await dir.readlink(name).catch(() => undefined);
      // A link out of the volume is not data of the app's: it is left out, as the copy does.
      if (target === undefined || !linkStaysInside(path, target)) return false;
      this.seen.add(path);
      if (live?.kind === 'symlink' && live.linkTarget === target) {
        this.index.restamp(path, stamp);
      } else {
        this.record(entry?.record, { ...base, kind: 'symlink', linkTarget: target }, stamp);
      }
      return false;
    }
    // Sockets, fifos and devices are not data.
    if (!st.isFile()) return false;
    this.seen.add(path);
    if (live?.kind === 'file' && this.options.rehash !== true && trusted(entry?.stamp, stamp)) {
      return false;
    }
    const known = this.options.known?.get(path);
    let hashed: Hashed | undefined;
    if (known !== undefined && sameStamp(known.stamp, stamp)) hashed = known;
    else {
      hashed = await hashFile(dir, name, st);
      // Written to while it was read: the watcher or the next scan comes back to it.
      if (hashed === undefined) return false;
      this.stats.hashedBytes += st.size;
    }
    const read = hashed.stamp;
    const next = { ...base, kind: 'file' as SyncKind, size: st.size, hash: hashed.hash };
    if (
      live?.kind === 'file' &&
      live.hash === hashed.hash &&
      live.mode === mode &&
      live.mtimeMs === next.mtimeMs
    ) {
      this.index.restamp(path, read);
    } else {
      this.record(entry?.record, next, read);
    }
    return false;
  }

  private record(
    previous: SyncRecord | undefined,
    state: Pick<SyncRecord, 'path' | 'kind' | 'mode' | 'mtimeMs' | 'size' | 'linkTarget' | 'hash'>,
    stamp: LocalStamp,
  ): void {
    const version = bumpVersion(previous?.version ?? {}, this.self);
    this.index.put({ ...state, deleted: false, version, modifiedBy: this.self }, stamp);
    this.stats.changed++;
  }
}

/**
 * The content hash of the file `name` in `dir`, with the stamp it was read at (racy when its
 * mtime was recent), or undefined when it is gone, or changed while it was read.
 */
async function hashFile(dir: Dir, name: string, before: Stats): Promise<Hashed | undefined> {
  let fh;
  try {
    fh = await dir.file(name, constants.O_RDONLY);
  } catch (err) {
    if (hasCode(err, 'ENOENT') || hasCode(err, 'ELOOP')) return undefined;
    throw err;
  }
  try {
    const opened = await fh.stat();
    if (!opened.isFile() || opened.ino !== before.ino) return undefined;
    const hash = ContentHash.create();
    const buffer = Buffer.allocUnsafe(Math.min(READ_BYTES, Math.max(1, opened.size)));
    for (;;) {
      const { bytesRead } = await fh.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
    const readAt = Date.now();
    const after = await fh.stat();
    if (!sameStamp(stampOf(before), stampOf(after))) return undefined;
    return { hash: hash.hex(), stamp: stampOf(after, readAt) };
  } finally {
    await fh.close();
  }
}

/**
 * Hashes, without touching the index, the files under `paths` that a scan would read (new, or
 * not trusted by their stamp), so that the scan that follows under the volume's lock finds them
 * in `known` and reads nothing: hashing is the slow part of a scan, and syncing goes on while
 * it runs.
 */
export async function prehash(
  root: Dir,
  index: VolumeIndex,
  paths: readonly string[],
): Promise<Map<string, Hashed>> {
  const known = new Map<string, Hashed>();
  const visit = async (dir: Dir, name: string, path: string): Promise<void> => {
    if (name.startsWith(TEMP_PREFIX)) return;
    const st = await dir.lstat(name);
    if (st === undefined) return;
    if (st.isDirectory()) {
      const sub = await openDir(dir, name);
      if (sub === undefined) return;
      try {
        for (const child of await sub.list().catch(() => [])) {
          await visit(sub, child, `${path}/${child}`);
        }
      } finally {
        await sub.close();
      }
      return;
    }
    if (!st.isFile()) return;
    const entry = index.get(path);
    if (entry?.record.deleted === false && trusted(entry.stamp, stampOf(st))) return;
    const hashed = await hashFile(dir, name, st);
    if (hashed !== undefined) known.set(path, hashed);
  };
  for (const path of paths) {
    if (path === '') {
      for (const name of await root.list()) await visit(root, name, name);
      continue;
    }
    const segments = checkEntryPath(path);
    const parent = await parentOf(root, segments, false);
    if (parent === undefined) continue;
    try {
      await visit(parent, segments[segments.length - 1] ?? '', path);
    } finally {
      await parent.close();
    }
  }
  return known;
}
