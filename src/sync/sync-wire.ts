import { InvalidInputError } from '../errors';
import {
  FetchFileStatus,
  SyncKind as WireKind,
  type BlockSignature,
  type FetchFilesResponse,
  type FetchResponse,
  type SyncRecord as WireRecord,
} from '../gen/budgie/peer/v1/sync';
import { checkEntryPath, linkStaysInside } from '../volumes/paths';
import { MAX_LITERAL_BYTES } from './delta';
import { SYNC_MODE_MASK, type SyncKind, type SyncRecord } from './records';
import { TEMP_PREFIX } from './scanner';
import type { Signature } from './signature';
import { SMALL_FILE_BYTES, type FetchItem, type WholeFile } from './transfer';

/**
 * Sync messages as budgie.peer.v1 carries them, both ways. Everything a member sends is checked
 * as if a stranger had sent it: paths inside the volume, known kinds, bounded sizes and lists.
 */

/** Far past any real cluster: more nodes in one version vector is a forged record. */
const MAX_VERSION_NODES = 64;
const MAX_ID_LENGTH = 128;
/** A signature of a 10 GiB file at 128 KiB blocks has 81,920; more is not a file of ours. */
export const MAX_SIGNATURE_BLOCKS = 100_000;

const TO_WIRE: Record<SyncKind, WireKind> = {
  file: WireKind.SYNC_KIND_FILE,
  dir: WireKind.SYNC_KIND_DIR,
  symlink: WireKind.SYNC_KIND_SYMLINK,
};
const FROM_WIRE = new Map(Object.entries(TO_WIRE).map(([k, v]) => [v, k as SyncKind]));

export function toWireRecord(r: SyncRecord): WireRecord {
  return {
    path: r.path,
    kind: TO_WIRE[r.kind],
    mode: r.mode,
    mtimeUnixMs: r.mtimeMs,
    size: r.size,
    linkTarget: r.linkTarget,
    hash: r.hash,
    deleted: r.deleted,
    version: Object.entries(r.version).map(([nodeId, counter]) => ({ nodeId, counter })),
    modifiedBy: r.modifiedBy,
    sequence: r.sequence,
  };
}

export function fromWireRecord(w: WireRecord): SyncRecord {
  const at = `sync record ${JSON.stringify(w.path.slice(0, 200))}`;
  const segments = checkEntryPath(w.path);
  if (segments.some((s) => s.startsWith(TEMP_PREFIX))) {
    throw new InvalidInputError(`${at}: names a sync temp file`);
  }
  const kind = FROM_WIRE.get(w.kind);
  if (kind === undefined) throw new InvalidInputError(`${at}: unknown kind ${w.kind}`);
  const count = (n: number, what: string): number => {
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidInputError(`${at}: ${what} ${n}`);
    return n;
  };
  if (!w.deleted && kind === 'file' && !/^[0-9a-f]{64}$/.test(w.hash)) {
    throw new InvalidInputError(`${at}: expected a SHA-256 hash, got ${JSON.stringify(w.hash)}`);
  }
  if (!w.deleted && kind === 'symlink' && !linkStaysInside(w.path, w.linkTarget)) {
    throw new InvalidInputError(`${at}: the link points outside the volume`);
  }
  if (w.version.length === 0 || w.version.length > MAX_VERSION_NODES) {
    throw new InvalidInputError(`${at}: a version of ${w.version.length} nodes`);
  }
  const version: Record<string, number> = {};
  for (const { nodeId, counter } of w.version) {
    if (nodeId === '' || nodeId.length > MAX_ID_LENGTH || Object.hasOwn(version, nodeId)) {
      throw new InvalidInputError(`${at}: a bad node id in its version`);
    }
    version[nodeId] = count(counter, 'version counter');
  }
  if (w.modifiedBy === '' || w.modifiedBy.length > MAX_ID_LENGTH) {
    throw new InvalidInputError(`${at}: a bad modifying node id`);
  }
  return {
    path: w.path,
    kind,
    mode: w.mode & SYNC_MODE_MASK,
    mtimeMs: Number.isSafeInteger(w.mtimeUnixMs) ? w.mtimeUnixMs : 0,
    size: count(w.size, 'size'),
    linkTarget: kind === 'symlink' ? w.linkTarget : '',
    hash: kind === 'file' ? w.hash : '',
    deleted: w.deleted,
    version: version,
    modifiedBy: w.modifiedBy,
    sequence: count(w.sequence, 'sequence'),
  };
}

export function toWireSignature(s: Signature): {
  blockSize: number;
  basisSize: number;
  blocks: BlockSignature[];
} {
  return {
    blockSize: s.blockSize,
    basisSize: s.fileSize,
    blocks: s.blocks.map((b) => ({ weak: b.weak, strong: Buffer.from(b.strong, 'hex') })),
  };
}

export function fromWireSignature(w: {
  blockSize: number;
  basisSize: number;
  blocks: BlockSignature[];
}): Signature {
  if (w.blocks.length > MAX_SIGNATURE_BLOCKS) {
    throw new InvalidInputError(
      `blocks: ${w.blocks.length}, expected at most ${MAX_SIGNATURE_BLOCKS}`,
    );
  }
  if (!Number.isSafeInteger(w.blockSize) || w.blockSize < 1 || w.blockSize > 1024 * 1024) {
    throw new InvalidInputError(`block_size: ${w.blockSize}, expected 1 to 1048576`);
  }
  const expected = w.basisSize === 0 ? 0 : Math.ceil(w.basisSize / w.blockSize);
  if (!Number.isSafeInteger(w.basisSize) || expected !== w.blocks.length) {
    throw new InvalidInputError(
      `basis_size: ${w.basisSize} bytes do not make ${w.blocks.length} blocks of ${w.blockSize}`,
    );
  }
  return {
    blockSize: w.blockSize,
    fileSize: w.basisSize,
    blocks: w.blocks.map((b) => {
      if (b.strong.length !== 16) throw new InvalidInputError('blocks: a strong hash is 16 bytes');
      return { weak: b.weak >>> 0, strong: Buffer.from(b.strong).toString('hex') };
    }),
  };
}

export function toFetchResponse(item: FetchItem): FetchResponse {
  switch (item.kind) {
    case 'copy':
      return { op: { $case: 'copy', value: { index: item.index, count: item.count } } };
    case 'literal':
      return { op: { $case: 'literal', value: item.data } };
    case 'end':
      return {
        op: {
          $case: 'end',
          value: {
            size: item.size,
            hash: item.hash,
            mode: item.mode,
            mtimeUnixMs: item.mtimeMs,
            gone: item.gone,
          },
        },
      };
  }
}

export function toFetchFilesResponse(file: WholeFile): FetchFilesResponse {
  const status = {
    ok: FetchFileStatus.FETCH_FILE_STATUS_OK,
    gone: FetchFileStatus.FETCH_FILE_STATUS_GONE,
    large: FetchFileStatus.FETCH_FILE_STATUS_LARGE,
  }[file.status];
  return {
    index: file.index,
    status,
    data: file.data,
    hash: file.hash,
    mode: file.mode,
    mtimeUnixMs: file.mtimeMs,
  };
}

/** A member's FetchFiles message, for a request of `asked` paths. */
export function fromFetchFilesResponse(message: FetchFilesResponse, asked: number): WholeFile {
  if (!Number.isSafeInteger(message.index) || message.index < 0 || message.index >= asked) {
    throw new InvalidInputError(`sync fetch: an answer for path ${message.index} of ${asked}`);
  }
  if (message.data.length > SMALL_FILE_BYTES) {
    throw new InvalidInputError(`sync fetch: a whole file of ${message.data.length} bytes`);
  }
  const status =
    message.status === FetchFileStatus.FETCH_FILE_STATUS_OK
      ? 'ok'
      : message.status === FetchFileStatus.FETCH_FILE_STATUS_GONE
        ? 'gone'
        : message.status === FetchFileStatus.FETCH_FILE_STATUS_LARGE
          ? 'large'
          : undefined;
  if (status === undefined) throw new InvalidInputError(`sync fetch: status ${message.status}`);
  return {
    index: message.index,
    status,
    data: Buffer.from(message.data.buffer, message.data.byteOffset, message.data.length),
    hash: message.hash.slice(0, 64),
    mode: message.mode & SYNC_MODE_MASK,
    mtimeMs: message.mtimeUnixMs,
  };
}

/** A member's Fetch message; applyDelta checks the ranges and sizes of what it carries. */
export function fromFetchResponse(message: FetchResponse): FetchItem {
  const op = message.op;
  if (op === undefined) throw new InvalidInputError('sync fetch: an empty message');
  switch (op.$case) {
    case 'copy':
      return { kind: 'copy', index: op.value.index, count: op.value.count };
    case 'literal':
      if (op.value.length > MAX_LITERAL_BYTES) {
        throw new InvalidInputError(`sync fetch: a literal of ${op.value.length} bytes`);
      }
      return { kind: 'literal', data: op.value };
    case 'end':
      return {
        kind: 'end',
        size: op.value.size,
        hash: op.value.hash,
        mode: op.value.mode & SYNC_MODE_MASK,
        mtimeMs: op.value.mtimeUnixMs,
        gone: op.value.gone,
      };
  }
}
