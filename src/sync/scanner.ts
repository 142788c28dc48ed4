import type { Stats } from 'node:fs';
import {
  Dir,
  entryStatOf,
  FileJobs,
  hasCode,
  parentOf,
  sameMeta,
  type EntryStat,
  type Inspected,
  type Meta,
} from '../fs';
import { checkEntryPath, linkStaysInside } from '../volumes/paths';
import { CONTENT_HASH } from './content-hash';
import type { VolumeIndex } from './index-store';
import { SYNC_MODE_MASK, type LocalStamp, type SyncKind, type SyncRecord } from './records';
import { bumpVersion } from './version';

/** Files the engine writes before renaming them into place; never part of the volume. */
export const TEMP_PREFIX = '.budgie-sync-';
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
  /** Where entries are looked at and files hashed. Default inline. */
  jobs?: FileJobs;
}

/**
 * Entries of a directory looked at per file job, and jobs of one directory in flight at once:
 * a directory of thousands of files is read and hashed on several threads, in batches.
 */
const INSPECT_BATCH = 128;
const INSPECT_IN_FLIGHT = 4;

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
  const jobs = options.jobs ?? FileJobs.inline();
  const observer = new Observer(index, self, stats, seen, options, jobs);
  if (prefix === '') {
    await observer.walk(root, '');
  } else {
    const segments = checkEntryPath(prefix);
    const parent = await parentOf(root, segments, false);
    if (parent !== undefined) {
      try {
        const name = segments[segments.length - 1] ?? '';
        const [found] = await jobs.inspect(
          parent,
          [{ name, skipIf: observer.skipFor(prefix) }],
          CONTENT_HASH,
        );
        if (found !== undefined && observer.observe(prefix, found)) {
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
export async function suspects(
  root: Dir,
  index: VolumeIndex,
  jobs: FileJobs = FileJobs.inline(),
): Promise<string[]> {
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
    const entries = names.filter((name) => !name.startsWith(TEMP_PREFIX)).map((name) => ({ name }));
    for await (const { name, stat: st } of inspectAll(jobs, dir, entries)) {
      const path = prefix === '' ? name : `${prefix}/${name}`;
      if (st === undefined) continue;
      seen.add(path);
      const entry = index.get(path);
      const live = entry !== undefined && !entry.record.deleted ? entry.record : undefined;
      if (st.kind === 'dir') {
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
        (st.kind === 'file' || st.kind === 'symlink') &&
        (live === undefined || !trusted(entry?.stamp, stampOfEntry(st)))
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

/**
 * `entries` of `dir` inspected on the file jobs' threads, a few batches at once, in order. The
 * caller keeps `dir` open until this ends; every job is over by then, even when the caller
 * stops early (a job must never outlive the descriptor its paths go through).
 */
async function* inspectAll(
  jobs: FileJobs,
  dir: Dir,
  entries: readonly { name: string; skipIf?: Meta }[],
  hash?: string,
): AsyncGenerator<Inspected> {
  const pending: Promise<Inspected[]>[] = [];
  let next = 0;
  const fill = (): void => {
    while (pending.length < INSPECT_IN_FLIGHT && next < entries.length) {
      pending.push(jobs.inspect(dir, entries.slice(next, next + INSPECT_BATCH), hash));
      next += INSPECT_BATCH;
    }
  };
  try {
    fill();
    for (let batch = pending.shift(); batch !== undefined; batch = pending.shift()) {
      const found = await batch;
      fill();
      yield* found;
    }
  } finally {
    await Promise.allSettled(pending);
  }
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
  return stampOfEntry(entryStatOf(st), readAt);
}

/** What a file job's `EntryStat` says of a path (see stampOf). */
export function stampOfEntry(st: EntryStat, readAt?: number): LocalStamp {
  const stamp: LocalStamp = {
    ino: st.ino,
    size: st.size,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    mode: st.mode & 0o7777,
  };
  if (readAt !== undefined && st.kind === 'file' && st.mtimeMs > readAt - RACY_MS) {
    stamp.racy = true;
  }
  return stamp;
}

/** Whether a scan may skip reading a file: the same stamp, and not a racy one. */
export function trusted(indexed: LocalStamp | undefined, now: LocalStamp): boolean {
  return indexed?.racy !== true && sameStamp(indexed, now);
}

export function sameStamp(a: LocalStamp | undefined, b: LocalStamp): boolean {
  return a !== undefined && sameMeta(a, b);
}

class Observer {
  constructor(
    private readonly index: VolumeIndex,
    private readonly self: string,
    private readonly stats: ScanStats,
    private readonly seen: Set<string>,
    private readonly options: ScanOptions,
    private readonly jobs: FileJobs,
  ) {}

  async walk(dir: Dir, prefix: string): Promise<void> {
    let names: string[];
    try {
      names = (await dir.list()).sort();
    } catch (err) {
      if (hasCode(err, 'ENOENT')) return;
      throw err;
    }
    const entries = names
      .filter((name) => !name.startsWith(TEMP_PREFIX))
      .map((name) => ({ name, skipIf: this.skipFor(prefix === '' ? name : `${prefix}/${name}`) }));
    for await (const found of inspectAll(this.jobs, dir, entries, CONTENT_HASH)) {
      const path = prefix === '' ? found.name : `${prefix}/${found.name}`;
      if (!this.observe(path, found)) continue;
      const sub = await openDir(dir, found.name);
      if (sub === undefined) continue;
      try {
        await this.walk(sub, path);
      } finally {
        await sub.close();
      }
    }
  }

  /**
   * The stamp at which a file need not be read again: the index's, when it is trusted, or the
   * one it was hashed at beforehand (see `prehash`).
   */
  skipFor(path: string): Meta | undefined {
    const entry = this.index.get(path);
    if (
      this.options.rehash !== true &&
      entry?.record.kind === 'file' &&
      !entry.record.deleted &&
      entry.stamp !== undefined &&
      entry.stamp.racy !== true
    ) {
      return entry.stamp;
    }
    return this.options.known?.get(path)?.stamp;
  }

  /** Records one inspected entry if it changed; true when it is a directory to descend into. */
  observe(path: string, found: Inspected): boolean {
    const st = found.stat;
    if (st === undefined) return false;
    const entry = this.index.get(path);
    const live = entry !== undefined && !entry.record.deleted ? entry.record : undefined;
    const stamp = stampOfEntry(st);
    const mode = st.mode & SYNC_MODE_MASK;
    const base = { path, mode, mtimeMs: Math.floor(st.mtimeMs), size: 0, linkTarget: '', hash: '' };
    if (st.kind === 'dir') {
      this.seen.add(path);
      if (live?.kind === 'dir' && live.mode === mode) this.index.restamp(path, stamp);
      else this.record(entry?.record, { ...base, kind: 'dir' }, stamp);
      return true;
    }
    if (st.kind === 'symlink') {
      const target = found.link;
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
    if (st.kind !== 'file') return false;
    this.seen.add(path);
    if (live?.kind === 'file' && this.options.rehash !== true && trusted(entry?.stamp, stamp)) {
      return false;
    }
    const known = this.options.known?.get(path);
    let hashed: Hashed;
    if (known !== undefined && sameStamp(known.stamp, stamp)) hashed = known;
    else {
      // Written to while it was read: the watcher or the next scan comes back to it.
      if (found.hashed === undefined) return false;
      hashed = hashedOf(found.hashed);
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

/** A file job's read of a file as the scanner keeps it. */
function hashedOf(read: NonNullable<Inspected['hashed']>): Hashed {
  return { hash: read.hash, stamp: stampOfEntry(read.after, read.readAtMs) };
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
  jobs: FileJobs = FileJobs.inline(),
): Promise<Map<string, Hashed>> {
  const known = new Map<string, Hashed>();
  const skipFor = (path: string): Meta | undefined => {
    const entry = index.get(path);
    return entry?.record.deleted === false && entry.stamp?.racy !== true ? entry.stamp : undefined;
  };
  const visitDir = async (dir: Dir, prefix: string): Promise<void> => {
    const names = (await dir.list().catch(() => [])).filter((n) => !n.startsWith(TEMP_PREFIX));
    const entries = names.map((name) => ({ name, skipIf: skipFor(`${prefix}${name}`) }));
    const subdirs: string[] = [];
    for await (const found of inspectAll(jobs, dir, entries, CONTENT_HASH)) {
      if (found.stat?.kind === 'dir') subdirs.push(found.name);
      else if (found.hashed !== undefined)
        known.set(`${prefix}${found.name}`, hashedOf(found.hashed));
    }
    for (const name of subdirs) {
      const sub = await openDir(dir, name);
      if (sub === undefined) continue;
      try {
        await visitDir(sub, `${prefix}${name}/`);
      } finally {
        await sub.close();
      }
    }
  };
  for (const path of paths) {
    if (path === '') {
      await visitDir(root, '');
      continue;
    }
    const segments = checkEntryPath(path);
    const parent = await parentOf(root, segments, false);
    if (parent === undefined) continue;
    try {
      const name = segments[segments.length - 1] ?? '';
      const [found] = await jobs.inspect(parent, [{ name, skipIf: skipFor(path) }], CONTENT_HASH);
      if (found?.stat?.kind === 'dir') {
        const sub = await openDir(parent, name);
        if (sub !== undefined) {
          try {
            await visitDir(sub, `${path}/`);
          } finally {
            await sub.close();
          }
        }
      } else if (found?.hashed !== undefined) {
        known.set(path, hashedOf(found.hashed));
      }
    } finally {
      await parent.close();
    }
  }
  return known;
}
