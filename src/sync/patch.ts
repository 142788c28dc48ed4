import { InvalidInputError } from '../errors';
import { MAX_LITERAL_BYTES, type DeltaOp } from './delta';

/** The shape of the receiver's copy a delta was made against. */
export interface PatchBasis {
  blockSize: number;
  fileSize: number;
}

/** Where a rebuilt file goes: new bytes from the sender, and ranges of the receiver's copy. */
export interface PatchTarget {
  /** Appends new bytes; `data` is the caller's again once the call returns. */
  append(data: Buffer): Promise<void>;
  /**
   * Appends `length` bytes of the receiver's copy from `offset` (inside it, checked); throws
   * InvalidInputError if fewer are there now.
   */
  appendCopy(offset: number, length: number): Promise<void>;
}

/**
 * Rebuilds the new file from the receiver's copy and a sender's delta into `target`, checking
 * every instruction as if it came from a stranger: block ranges inside the copy, literal runs
 * within MAX_LITERAL_BYTES, and the output no longer than `expectedSize`. Returns the bytes
 * written. The caller checks the whole file's digest before it replaces anything.
 */
export async function applyDelta(
  basis: PatchBasis,
  ops: AsyncIterable<DeltaOp>,
  expectedSize: number,
  target: PatchTarget,
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
      await target.append(op.data);
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
    grow(end - start);
    await target.appendCopy(start, end - start);
  }
  return written;
}
