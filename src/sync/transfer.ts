import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { InvalidInputError, UnavailableError } from '../errors';
import { openBeneath, type Dir, type FileJobs } from '../fs';
import { checkEntryPath } from '../volumes/paths';
import { CONTENT_HASH, ContentHash } from './content-hash';
import { deltaOf, type DeltaOp } from './delta';
import { applyDelta } from './patch';
import { RebuiltFile } from './rebuilt-file';
import type { SyncRecord } from './records';
import { sameStamp, stampOf, type Hashed } from './scanner';
import { blockSizeFor, signatureOf, type Signature } from './signature';

/** What a member's Fetch stream carries: the delta, then what was sent. */
export type FetchItem = DeltaOp | FetchEnd;

export interface FetchEnd {
  kind: 'end';
  size: number;
  hash: string;
  mode: number;
  mtimeMs: number;
  /** The path was not a regular file when the fetch came: nothing was sent. */
  gone: boolean;
}

/**
 * The member's file is no longer the version its feed announced (written to, replaced or
 * deleted since it was indexed). Nothing is lost by passing over the record: the member indexes
 * what is there now, and its feed carries that as a newer record.
 */
export class StaleRecordError extends UnavailableError {}

/** The local copy a fetch built on changed while it was read: the rebuilt file is not the one sent. */
export class CopyChangedError extends UnavailableError {}

const GONE: FetchEnd = { kind: 'end', size: 0, hash: '', mode: 0, mtimeMs: 0, gone: true };

export interface ChangesQuery {
  since: number;
  epoch: string;
  limit: number;
  waitMs: number;
}

export interface ChangesAnswer {
  records: SyncRecord[];
  sequence: number;
  epoch: string;
  more: boolean;
}

/** One answer of a FetchFiles: the `index`th path asked for, whole. */
export interface WholeFile {
  index: number;
  /** 'large': not carried whole (over SMALL_FILE_BYTES): to be fetched with `fetch`. */
  status: 'ok' | 'gone' | 'large';
  data: Buffer;
  /** SHA-256 (hex) of `data`, as the member says: the receiver checks it. */
  hash: string;
  mode: number;
  mtimeMs: number;
}

/** Paths one FetchFiles asks for at most. */
export const MAX_FETCH_FILES = 64;

/** A member's side of one volume, as the puller sees it (SyncClient in the agent, fakes in tests). */
export interface SyncPeer {
  readonly nodeId: string;
  changes(query: ChangesQuery, signal: AbortSignal): Promise<ChangesAnswer>;
  fetch(path: string, signature: Signature, signal: AbortSignal): AsyncIterable<FetchItem>;
  /** Up to MAX_FETCH_FILES small files whole, each answered once. */
  fetchFiles(paths: readonly string[], signal: AbortSignal): AsyncIterable<WholeFile>;
}

const CHUNK_BYTES = 1024 * 1024;
/** Files up to this size are read whole in one file job, not streamed. */
export const SMALL_FILE_BYTES = 256 * 1024;

/**
 * The chunks of an open file from its start; reads on past `size` should the file grow, so the
 * hash at the end covers what was sent. One read ahead: the next chunk comes off the disk while
 * this one is hashed and matched. The two buffers take turns, so a chunk is only good until
 * the next one is asked for (deltaOf copies what it keeps): a fresh megabyte per chunk cost
 * more in page faults and garbage collection than the delta itself. Stops early on abort.
 */
async function* chunksOf(
  fh: FileHandle,
  size: number,
  signal?: AbortSignal,
): AsyncGenerator<Buffer> {
  // Sized to the file (a smaller file costs smaller buffers), and room to see it grew.
  const length = Math.min(CHUNK_BYTES, Math.max(4096, size + 1));
  const first = Buffer.allocUnsafeSlow(length);
  const second = Buffer.allocUnsafeSlow(length);
  let turn = 0;
  const readAt = async (at: number): Promise<Buffer> => {
    const buffer = turn++ % 2 === 0 ? first : second;
    const { bytesRead } = await fh.read(buffer, 0, length, at);
    return buffer.subarray(0, bytesRead);
  };
  let next = readAt(0);
  try {
    for (let position = 0; ;) {
      const chunk = await next;
      if (chunk.length === 0 || signal?.aborted === true) return;
      position += chunk.length;
      next = readAt(position);
      yield chunk;
    }
  } finally {
    // A read still in flight when the reader stops: its failure (the file closed) is no news.
    next.catch(() => undefined);
  }
}

/**
 * The sender's side: the file at `path` of the volume as a delta against the member's copy
 * (`signature`), hashed as it is read, and what was read at the end. Opened through held
 * directory descriptors without following any symlink; anything but a regular file is refused.
 */
export async function* readDelta(
  root: Dir,
  path: string,
  signature: Signature,
  signal: AbortSignal,
  jobs: FileJobs,
  indexed?: Hashed,
): AsyncGenerator<FetchItem> {
  const segments = checkEntryPath(path);
  // A small file is read, and hashed, whole in one file job (off this thread). One indexed as
  // large is streamed straight away: its job would wait behind any hashing the threads do.
  const small =
    indexed !== undefined && indexed.stamp.size > SMALL_FILE_BYTES
      ? undefined
      : await jobs.readSmall(root, segments, SMALL_FILE_BYTES, CONTENT_HASH);
  if (small?.kind === 'gone') {
    yield GONE;
    return;
  }
  if (small?.kind === 'file') {
    const data = Buffer.from(small.buffer, 0, small.length);
    yield* deltaOf(signature, [data]);
    yield {
      kind: 'end',
      size: data.length,
      hash: small.digest ?? '',
      mode: small.before.mode & 0o7777,
      mtimeMs: Math.floor(small.before.mtimeMs),
      gone: false,
    };
    return;
  }
  // Larger: streamed, and hashed as it goes.
  const fh = await openBeneath(root, segments);
  if (fh === undefined) {
    yield GONE;
    return;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      yield GONE;
      return;
    }
    // A file whose stamp is the one it was hashed at, before and after it is read, holds the
    // indexed content: it is not hashed again (the receiver checks what it rebuilds anyway).
    const vouched = (now: Stats): boolean =>
      indexed !== undefined &&
      indexed.stamp.racy !== true &&
      sameStamp(indexed.stamp, stampOf(now));
    const hash = vouched(st) ? undefined : ContentHash.create();
    let size = 0;
    const hashed = async function* (): AsyncGenerator<Buffer> {
      for await (const chunk of chunksOf(fh, st.size, signal)) {
        hash?.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    };
    yield* deltaOf(signature, hashed());
    let sent = hash?.hex();
    if (sent === undefined) {
      // Changed while it was sent: what was sent is not known, and the receiver drops it.
      sent = vouched(await fh.stat()) ? (indexed?.hash ?? '') : '';
    }
    yield {
      kind: 'end',
      size,
      hash: sent,
      mode: st.mode & 0o7777,
      mtimeMs: Math.floor(st.mtimeMs),
      gone: false,
    };
  } finally {
    await fh.close();
  }
}

/** The block signature of a local copy of `size` bytes (empty without one), for a Fetch. */
export function signatureOfFile(basis: FileHandle | undefined, size: number): Promise<Signature> {
  if (basis === undefined) {
    return Promise.resolve({ blockSize: blockSizeFor(0), fileSize: 0, blocks: [] });
  }
  return signatureOf(positional(basis, size), blockSizeFor(size));
}

/** The first `size` bytes of a file, in one buffer read into again for each chunk. */
async function* positional(fh: FileHandle, size: number): AsyncGenerator<Buffer> {
  const buffer = Buffer.allocUnsafeSlow(Math.max(1, Math.min(CHUNK_BYTES, size)));
  for (let at = 0; at < size; at += CHUNK_BYTES) {
    const { bytesRead } = await fh.read(buffer, 0, Math.min(buffer.length, size - at), at);
    if (bytesRead === 0) return;
    yield buffer.subarray(0, bytesRead);
  }
}

/** What fetches moved: literal bytes on the wire, and bytes of the files they rebuilt. */
export interface WireCount {
  literalBytes: number;
  fileBytes: number;
}

/**
 * The receiver's side: rebuilds `want` (a member's record) from the local copy and the member's
 * delta into `temp` (a new file, open for writing), checking every instruction, and then that
 * the bytes are exactly the version the record names (size and SHA-256), never a mixed file. A
 * member whose file changed since its record throws StaleRecordError; a copy here that changed
 * while it was read (the rebuilt bytes are not what the member sent) throws CopyChangedError, to
 * be tried again.
 */
export async function receiveFile(
  temp: FileHandle,
  basis: FileHandle | undefined,
  signature: Signature,
  items: AsyncIterable<FetchItem>,
  want: SyncRecord,
  count: WireCount,
): Promise<void> {
  let end: FetchEnd | undefined;
  const ops = async function* (): AsyncGenerator<DeltaOp> {
    for await (const item of items) {
      if (end !== undefined) throw new InvalidInputError('sync: data after the end of a fetch');
      if (item.kind === 'end') end = item;
      else {
        if (item.kind === 'literal') count.literalBytes += item.data.length;
        yield item;
      }
    }
  };
  const hash = ContentHash.create();
  const file = new RebuiltFile(temp, basis, want.size, (chunk) => {
    hash.update(chunk);
  });
  let written: number;
  try {
    written = await applyDelta(
      { blockSize: signature.blockSize, fileSize: signature.fileSize },
      ops(),
      want.size,
      file,
    );
    await file.finish();
  } catch (err) {
    await file.abandon();
    throw err;
  }
  const got = hash.hex();
  if (end === undefined) throw new UnavailableError(`sync: the fetch of ${want.path} broke off`);
  if (end.gone || end.size !== want.size || end.hash !== want.hash) {
    throw new StaleRecordError(
      `sync: ${want.path} changed on the member since it was indexed; it is fetched again`,
    );
  }
  if (written !== want.size || got !== want.hash) {
    throw new CopyChangedError(
      `sync: the copy of ${want.path} here changed while it was read; it is fetched again`,
    );
  }
  count.fileBytes += written;
}
