import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  futimesSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  readSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { asError, codeOf, hasCode } from './errno';
import { secondsOf } from './times';

/**
 * Whole file system jobs in blocking calls, for a worker thread (see file-jobs.ts): one message
 * in, a few system calls, one message out. Paths are `/proc/self/fd/N/...` of directories the
 * main thread holds open (a worker shares the process's descriptors), and every level is opened
 * without following a symlink, as Dir does.
 */

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/**
 * A file to read, never through a symlink; non-blocking, so that a fifo put where a file was
 * does not hold the thread until a writer comes (the fstat after the open then refuses it).
 */
const READ_FLAGS =
  constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

/** An entry's own metadata (a symlink is not followed), as plain data a message can carry. */
export interface EntryStat {
  kind: 'file' | 'dir' | 'symlink' | 'other';
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  /** Type and permission bits, as Stats.mode. */
  mode: number;
}

export function entryStatOf(st: Stats): EntryStat {
  const kind = st.isFile()
    ? 'file'
    : st.isDirectory()
      ? 'dir'
      : st.isSymbolicLink()
        ? 'symlink'
        : 'other';
  return {
    kind,
    ino: st.ino,
    size: st.size,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    mode: st.mode,
  };
}

/** Reads small regular files whole: see FileJobs.readSmall. */
export interface ReadJob {
  op: 'read';
  /** `/proc/self/fd/N` of the directory the paths start from. */
  root: string;
  paths: string[][];
  maxBytes: number;
  /** With what the bytes read are hashed (a node:crypto name), if at all. */
  hash?: string;
}

/** Small new files written and linked into place: see FileJobs.placeNew. */
export interface PlaceNewJob {
  op: 'placeNew';
  root: string;
  items: PlaceItem[];
}

export interface PlaceItem {
  /** Where, beneath the root; missing directories on the way are made (0755). */
  segments: string[];
  /** A name for the temp file, beside the target. */
  temp: string;
  data: Uint8Array;
  mode: number;
  mtimeMs: number;
  /** The digest `data` must have, or nothing is written. */
  digest: { algorithm: string; hex: string };
}

export type Placed =
  | { kind: 'placed'; stat: EntryStat }
  /** Something is at the target already: it was left alone. */
  | { kind: 'exists' }
  /** The bytes are not the ones named. */
  | { kind: 'mismatch' }
  /** A directory on the way is something else (a file, a symlink). */
  | { kind: 'no-parent' }
  | { kind: 'failed'; message: string; code?: string };

/** The metadata of several paths under one root: see FileJobs.lstatAll. */
export interface LstatJob {
  op: 'lstat';
  root: string;
  paths: string[][];
}

/** What a file's metadata was when it was last read: see InspectJob. */
export interface Meta {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  /** Permission bits (the type bits are not compared). */
  mode: number;
}

/** Entries of one directory looked at, and files read and hashed: see FileJobs.inspect. */
export interface InspectJob {
  op: 'inspect';
  dir: string;
  entries: { name: string; skipIf?: Meta }[];
  /** With what regular files are hashed (a node:crypto name), if at all (see skipIf). */
  hash?: string;
}

export interface Inspected {
  name: string;
  /** Undefined when nothing is there. */
  stat?: EntryStat;
  /** A symlink's target. */
  link?: string;
  /**
   * A regular file's digest (hex), with its metadata after the read and the time the read
   * ended; absent when it was not read, or changed while it was read.
   */
  hashed?: { hash: string; after: EntryStat; readAtMs: number };
}

export type FileJob = ReadJob | LstatJob | InspectJob | PlaceNewJob;

export type SmallRead =
  | { kind: 'gone' }
  /** Larger than asked for: read it as a stream instead. */
  | { kind: 'large' }
  /** The file's bytes are the first `length` of `buffer`. */
  | {
      kind: 'file';
      buffer: ArrayBuffer;
      length: number;
      before: EntryStat;
      after: EntryStat;
      /** The bytes' digest (hex), when the job named an algorithm. */
      digest?: string;
    };

/** A job's answer, tagged with its kind so that the asker narrows it without a cast. */
export type JobResult =
  | { op: 'read'; reads: SmallRead[] }
  | { op: 'placeNew'; placed: Placed[] }
  | { op: 'lstat'; stats: (EntryStat | undefined)[] }
  | { op: 'inspect'; entries: Inspected[] };

export function runJob(job: FileJob): JobResult {
  switch (job.op) {
    case 'read':
      return { op: 'read', reads: job.paths.map((segments) => readSmall(job, segments)) };
    case 'placeNew':
      return { op: 'placeNew', placed: placeNew(job) };
    case 'lstat':
      return { op: 'lstat', stats: job.paths.map((segments) => lstatBeneath(job.root, segments)) };
    case 'inspect':
      return { op: 'inspect', entries: inspect(job) };
  }
}

const HASH_READ_BYTES = 1024 * 1024;

function inspect(job: InspectJob): Inspected[] {
  let buffer: Buffer | undefined;
  return job.entries.map(({ name, skipIf }) => {
    const path = `${job.dir}/${name}`;
    let stat: EntryStat;
    try {
      stat = entryStatOf(lstatSync(path));
    } catch (err) {
      if (hasCode(err, 'ENOENT')) return { name };
      throw err;
    }
    if (stat.kind === 'symlink') {
      try {
        return { name, stat, link: readlinkSync(path) };
      } catch {
        // Gone or replaced since its lstat: the next look sees what it is.
        return { name, stat };
      }
    }
    if (
      stat.kind !== 'file' ||
      job.hash === undefined ||
      (skipIf !== undefined && sameMeta(skipIf, stat))
    ) {
      return { name, stat };
    }
    buffer ??= Buffer.allocUnsafe(HASH_READ_BYTES);
    const hashed = hashFile(path, stat, job.hash, buffer);
    return hashed === undefined ? { name, stat } : { name, stat, hashed };
  });
}

/** The digest of the file at `path` if it is still the `before` one, before and after the read. */
function hashFile(
  path: string,
  before: EntryStat,
  algorithm: string,
  buffer: Buffer,
): Inspected['hashed'] {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (err) {
    if (hasCode(err, 'ENOENT') || hasCode(err, 'ELOOP')) return undefined;
    throw err;
  }
  try {
    const opened = fstatSync(fd);
    if (!opened.isFile() || opened.ino !== before.ino) return undefined;
    const hash = createHash(algorithm);
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
    }
    const readAtMs = Date.now();
    const after = entryStatOf(fstatSync(fd));
    if (!sameMeta(before, after)) return undefined;
    return { hash: hash.digest('hex'), after, readAtMs };
  } finally {
    closeSync(fd);
  }
}

/** Whether two looks at a file saw the same one, unchanged (permission bits only of the mode). */
export function sameMeta(a: Meta, b: Meta): boolean {
  return (
    a.ino === b.ino &&
    a.size === b.size &&
    a.mtimeMs === b.mtimeMs &&
    a.ctimeMs === b.ctimeMs &&
    (a.mode & 0o7777) === (b.mode & 0o7777)
  );
}

/**
 * The descriptor of the parent of `segments`' last one, opened level by level (and made, 0755,
 * where missing with `create`); or undefined when a level is missing or not a directory.
 */
function openParent(root: string, segments: readonly string[], create = false): number | undefined {
  let fd: number | undefined;
  try {
    for (const segment of segments.slice(0, -1)) {
      const base = fd === undefined ? root : `/proc/self/fd/${fd}`;
      let next: number;
      try {
        next = openDir(`${base}/${segment}`, create);
      } catch (err) {
        if (hasCode(err, 'ENOENT') || hasCode(err, 'ENOTDIR') || hasCode(err, 'ELOOP')) {
          if (fd !== undefined) closeSync(fd);
          return undefined;
        }
        throw err;
      }
      if (fd !== undefined) closeSync(fd);
      fd = next;
    }
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    throw err;
  }
  return fd ?? openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
}

function openDir(path: string, create: boolean): number {
  try {
    return openSync(path, DIR_FLAGS);
  } catch (err) {
    if (!create || !hasCode(err, 'ENOENT')) throw err;
  }
  try {
    mkdirSync(path, 0o755);
  } catch (err) {
    if (!hasCode(err, 'EEXIST')) throw err;
  }
  return openSync(path, DIR_FLAGS);
}

function lstatBeneath(root: string, segments: readonly string[]): EntryStat | undefined {
  const parent = openParent(root, segments);
  if (parent === undefined) return undefined;
  try {
    return entryStatOf(lstatSync(`/proc/self/fd/${parent}/${segments[segments.length - 1] ?? ''}`));
  } catch (err) {
    if (hasCode(err, 'ENOENT')) return undefined;
    throw err;
  } finally {
    closeSync(parent);
  }
}

function readSmall(job: ReadJob, segments: readonly string[]): SmallRead {
  const parent = openParent(job.root, segments);
  if (parent === undefined) return { kind: 'gone' };
  let fd: number;
  try {
    const name = segments[segments.length - 1] ?? '';
    fd = openSync(`/proc/self/fd/${parent}/${name}`, READ_FLAGS);
  } catch (err) {
    if (hasCode(err, 'ENOENT') || hasCode(err, 'ELOOP')) return { kind: 'gone' };
    throw err;
  } finally {
    closeSync(parent);
  }
  try {
    const before = entryStatOf(fstatSync(fd));
    if (before.kind !== 'file') return { kind: 'gone' };
    if (before.size > job.maxBytes) return { kind: 'large' };
    // One byte more than its size: a file that grew since is noticed (and its hash then
    // covers what was read, as the streamed read's does).
    const buffer = new ArrayBuffer(before.size + 1);
    const data = new Uint8Array(buffer);
    let length = 0;
    while (length < data.length) {
      const n = readSync(fd, data, length, data.length - length, length);
      if (n === 0) break;
      length += n;
    }
    if (length > job.maxBytes) return { kind: 'large' };
    const after = entryStatOf(fstatSync(fd));
    const read: SmallRead = { kind: 'file', buffer, length, before, after };
    if (job.hash !== undefined) {
      read.digest = createHash(job.hash).update(data.subarray(0, length)).digest('hex');
    }
    return read;
  } finally {
    closeSync(fd);
  }
}

/** An item written to its temp file, not yet fsynced: see placeNew. */
interface Written {
  i: number;
  parent: number;
  fd: number;
  temp: string;
  name: string;
  error?: unknown;
}

/**
 * Every item written to its temp file first, then all fsynced (the first fsync commits the
 * journal with the others' data: the rest cost little), then each linked to its name (which
 * fails rather than replace anything there), the temps unlinked, and each directory fsynced
 * once. A file is never seen torn, and never replaces what its caller did not know was there.
 */
function placeNew(job: PlaceNewJob): Placed[] {
  const results: Placed[] = job.items.map(() => ({ kind: 'failed', message: 'not placed' }));
  const written: Written[] = [];
  try {
    job.items.forEach((item, i) => {
      const w = writeTemp(job.root, item);
      if ('kind' in w) results[i] = w;
      else written.push({ ...w, i });
    });
    for (const w of written) {
      try {
        fsyncSync(w.fd);
      } catch (err) {
        w.error = err;
      } finally {
        closeSync(w.fd);
      }
    }
    const dirs = new Map<number, number>();
    for (const w of written) {
      if (w.error === undefined) {
        try {
          linkSync(w.temp, w.name);
          dirs.set(fstatSync(w.parent).ino, w.parent);
        } catch (err) {
          w.error = err;
        }
      }
      try {
        unlinkSync(w.temp);
      } catch {
        // Swept at the next start.
      }
    }
    for (const parent of dirs.values()) fsyncSync(parent);
    for (const w of written) {
      if (w.error === undefined) {
        results[w.i] = { kind: 'placed', stat: entryStatOf(lstatSync(w.name)) };
      } else {
        results[w.i] = hasCode(w.error, 'EEXIST') ? { kind: 'exists' } : failure(w.error);
      }
    }
  } finally {
    for (const w of written) closeSync(w.parent);
  }
  return results;
}

/** The item in its temp file, with the descriptors open; or why not. */
function writeTemp(root: string, item: PlaceItem): Omit<Written, 'i'> | Placed {
  const digest = createHash(item.digest.algorithm).update(item.data).digest('hex');
  if (digest !== item.digest.hex) return { kind: 'mismatch' };
  let parent: number | undefined;
  try {
    parent = openParent(root, item.segments, true);
  } catch (err) {
    return hasCode(err, 'ENOTDIR') || hasCode(err, 'ELOOP') ? { kind: 'no-parent' } : failure(err);
  }
  if (parent === undefined) return { kind: 'no-parent' };
  const dir = `/proc/self/fd/${parent}`;
  const temp = `${dir}/${item.temp}`;
  const name = `${dir}/${item.segments[item.segments.length - 1] ?? ''}`;
  let fd: number;
  try {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    fd = openSync(temp, flags, 0o600);
  } catch (err) {
    closeSync(parent);
    return failure(err);
  }
  try {
    for (let at = 0; at < item.data.length;) {
      at += writeSync(fd, item.data, at, item.data.length - at, at);
    }
    fchmodSync(fd, item.mode);
    futimesSync(fd, secondsOf(item.mtimeMs), secondsOf(item.mtimeMs));
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // Swept at the next start.
    }
    closeSync(parent);
    return failure(err);
  }
  return { parent, fd, temp, name };
}

function failure(err: unknown): Placed {
  const { message } = asError(err);
  const code = codeOf(err);
  return code === undefined ? { kind: 'failed', message } : { kind: 'failed', message, code };
}
