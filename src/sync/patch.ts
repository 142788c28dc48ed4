import { InvalidInputError } from '../errors';
import { MAX_LITERAL_BYTES, type DeltaOp } from './delta';

/** Copies from the receiver's copy are read in pieces of this size at most. */
const READ_BYTES = 1024 * 1024;

/** What the receiver's side of a delta needs: its copy's shape, and where its bytes are read. */
export interface PatchBasis {
  blockSize: number;
  fileSize: number;
  /** `length` bytes of the receiver's copy from `offset` (fewer only at its end). */
  read(offset: number, length: number): Promise<Buffer>;
}

/**
 * Rebuilds the new file from the receiver's copy and a sender's delta, chunk by chunk into
 * `write`, checking every instruction as if it came from a stranger: block ranges inside the
 * copy, literal runs within MAX_LITERAL_BYTES, and the output no longer than `expectedSize`.
 * Returns the bytes written. The caller checks the whole file's digest before it replaces
 * anything.
 */
export async function applyDelta(
  basis: PatchBasis,
  ops: AsyncIterable<DeltaOp>,
  expectedSize: number,
  write: (chunk: Buffer) => Promise<void>,
): Promise<number> {
  const blocks = basis.fileSize === 0 ? 0 : Math.ceil(basis.fileSize / basis.blockSize);
  let written = 0;
  const grow = (n: number): void => {
    written += n;
    if (written > expectedSize) {
      throw new InvalidInputError(`delta: more than the ${expectedSize} bytes announced`);
    }
  };
  for await (const op of ops) {
    if (op.kind === 'literal') {
      if (op.data.length === 0 || op.data.length > MAX_LITERAL_BYTES) {
        throw new InvalidInputError(
          `delta: a literal of ${op.data.length} bytes (expected 1 to ${MAX_LITERAL_BYTES})`,
        );
      }
      grow(op.data.length);
      await write(op.data);
      continue;
    }
    const { index, count } = op;
    if (
      !Number.isSafeInteger(index) ||
      !Number.isSafeInteger(count) ||
      index < 0 ||
      count < 1 ||
      index + count > blocks
    ) {
      throw new InvalidInputError(
        `delta: blocks ${index}..${index + count - 1} are not in a copy of ${blocks} blocks`,
      );
    }
    const start = index * basis.blockSize;
    const end = Math.min(basis.fileSize, (index + count) * basis.blockSize);
    for (let at = start; at < end; at += READ_BYTES) {
      const length = Math.min(READ_BYTES, end - at);
      const bytes = await basis.read(at, length);
      if (bytes.length !== length) {
        throw new InvalidInputError(`delta: the copy changed while it was read (at byte ${at})`);
      }
      grow(length);
      await write(bytes);
    }
  }
  return written;
}
