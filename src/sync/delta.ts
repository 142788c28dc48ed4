import { RollingChecksum } from './rolling';
import { strongHasher, type Signature } from './signature';

/**
 * A copy run is sent once it has this many blocks, not only when it ends: a file that is mostly
 * the receiver's copy still sends a message every few MiB, so a member reading a large file is
 * never mistaken for a stalled stream (PEER_STALL_MS).
 */
const MAX_RUN_BLOCKS = 256;

/** An instruction to rebuild a file from the receiver's copy: reuse blocks, or take new bytes. */
export type DeltaOp =
  { kind: 'copy'; index: number; count: number } | { kind: 'literal'; data: Buffer };

/**
 * Literal runs are cut at this size: the sender never holds more than a block and one run of
 * new bytes, and the receiver bounds what it accepts in one instruction.
 */
export const MAX_LITERAL_BYTES = 64 * 1024;

/** A 16-bit tag of a weak checksum, for a table lookup before the map (as rsync's tag table). */
const tagOf = (weak: number): number => (weak ^ (weak >>> 16)) & 0xffff;

/**
 * The rsync algorithm, sender side: slides a block-sized window over the new file one byte at a
 * time, and where the window's weak checksum and then its strong hash match a block of the
 * receiver's copy, says "copy that block"; every byte in between goes as a literal. An edit
 * costs about one block plus its own bytes, and an insert at the start of a file costs only
 * itself. Memory stays at a few blocks, whatever the file's size.
 */
export async function* deltaOf(
  signature: Signature,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<DeltaOp> {
  const { blockSize } = signature;
  if (signature.fileSize < blockSize) {
    // No full block to slide against: only the whole file can match the receiver's copy.
    yield* shortBasis(signature, source);
    return;
  }
  const strong = await strongHasher();
  const byWeak = new Map<number, number[]>();
  const tags = new Uint8Array(0x10000);
  const last = signature.blocks.length - 1;
  // Full blocks are matched while sliding; a short last block only at the very end.
  const tailSize = signature.fileSize - last * blockSize;
  signature.blocks.forEach((block, index) => {
    if (index === last && tailSize !== blockSize) return;
    const list = byWeak.get(block.weak);
    if (list === undefined) byWeak.set(block.weak, [index]);
    else list.push(index);
    tags[tagOf(block.weak)] = 1;
  });

  const reader =
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  let buf = Buffer.alloc(0);
  // An object, not a local: `fill` sets it from a closure.
  const input = { ended: false };
  /** Start of the bytes not yet sent (the pending literal), and of the window, in `buf`. */
  let lit = 0;
  let pos = 0;
  /** A copy run not yet sent, to merge with the next matching block. */
  let run: { index: number; count: number } | undefined;
  const rolling = new RollingChecksum();
  let rollingValid = false;

  /** Reads until `buf` holds `need` bytes from `pos`, or the source ends. */
  const fill = async (need: number): Promise<void> => {
    while (!input.ended && buf.length - pos < need) {
      const next = await reader.next();
      if (next.done === true) {
        input.ended = true;
        break;
      }
      // Bytes before `lit` are sent already: drop them as the buffer grows.
      buf = Buffer.concat([buf.subarray(lit), next.value]);
      pos -= lit;
      lit = 0;
    }
  };
  const literal = function* (end: number): Generator<DeltaOp> {
    if (end <= lit) return;
    if (run !== undefined) {
      yield { kind: 'copy', ...run };
      run = undefined;
    }
    // A copy: `buf` is reused for later reads.
    yield { kind: 'literal', data: Buffer.from(buf.subarray(lit, end)) };
    lit = end;
  };
  const copy = function* (index: number): Generator<DeltaOp> {
    yield* literal(pos);
    if (run !== undefined && run.index + run.count === index && run.count < MAX_RUN_BLOCKS) {
      run.count++;
    } else {
      if (run !== undefined) yield { kind: 'copy', ...run };
      run = { index, count: 1 };
    }
  };
  /** The receiver's block that the window at `at` matches, if any. */
  const match = (at: number, weak: number): number | undefined => {
    if (tags[tagOf(weak)] === 0) return undefined;
    const candidates = byWeak.get(weak);
    if (candidates === undefined) return undefined;
    const hash = strong(buf.subarray(at, at + blockSize));
    // Prefer the block after the last one copied: runs of blocks stay runs.
    const next = run === undefined ? -1 : run.index + run.count;
    let found: number | undefined;
    for (const index of candidates) {
      if (signature.blocks[index]?.strong !== hash) continue;
      if (index === next) return index;
      found ??= index;
    }
    return found;
  };

  /** The block after the copy run, if the window at `at` is exactly it. */
  const following = (at: number): number | undefined => {
    if (run === undefined) return undefined;
    const next = run.index + run.count;
    const block = signature.blocks[next];
    if (block === undefined || (next === last && tailSize !== blockSize)) return undefined;
    return strong(buf.subarray(at, at + blockSize)) === block.strong ? next : undefined;
  };

  for (;;) {
    await fill(blockSize + 1);
    if (buf.length - pos < blockSize) break;
    let found: number | undefined;
    if (!rollingValid) {
      // Right after a copied block, the likeliest match is the block after it: an unchanged
      // file is a run of them, confirmed by the strong hash alone, with no weak sum to compute.
      found = following(pos);
      if (found === undefined) {
        rolling.reset(buf.subarray(pos, pos + blockSize));
        rollingValid = true;
      }
    }
    found ??= match(pos, rolling.value);
    // Slide byte by byte without awaiting while the buffer holds the next byte: the hot loop.
    while (found === undefined && pos + blockSize < buf.length) {
      rolling.roll(buf[pos] ?? 0, buf[pos + blockSize] ?? 0);
      pos++;
      found = match(pos, rolling.value);
      if (found === undefined && pos - lit >= MAX_LITERAL_BYTES) yield* literal(pos);
    }
    if (found === undefined) {
      if (input.ended) break;
      continue;
    }
    yield* copy(found);
    pos += blockSize;
    lit = pos;
    rollingValid = false;
  }
  // Fewer than a block left: it may be the receiver's short last block, else it is new bytes.
  const rest = buf.subarray(pos);
  if (last >= 0 && tailSize !== blockSize && rest.length === tailSize && tailSize > 0) {
    const tail = signature.blocks[last];
    if (tail !== undefined && strong(rest) === tail.strong) {
      yield* copy(last);
      pos = buf.length;
      lit = pos;
    }
  }
  while (buf.length - lit > MAX_LITERAL_BYTES) yield* literal(lit + MAX_LITERAL_BYTES);
  yield* literal(buf.length);
  if (run !== undefined) yield { kind: 'copy', ...run };
}

/**
 * The delta against a copy shorter than a block (or none): the new bytes as literals of
 * MAX_LITERAL_BYTES at most, without sliding a window, unless the new file is exactly the
 * receiver's copy (a rename or copy of a small file), which is one block to copy. The chunks
 * are passed on, not copied: sources give each chunk its own buffer.
 */
async function* shortBasis(
  signature: Signature,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<DeltaOp> {
  const only = signature.blocks[0];
  /** Held back while the new file may still be exactly the copy (fewer than a block of bytes). */
  let held: Buffer[] | undefined = only === undefined ? undefined : [];
  let heldBytes = 0;
  const literals = function* (bytes: Buffer): Generator<DeltaOp> {
    for (let at = 0; at < bytes.length; at += MAX_LITERAL_BYTES) {
      yield { kind: 'literal', data: bytes.subarray(at, at + MAX_LITERAL_BYTES) };
    }
  };
  for await (const chunk of source) {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (held !== undefined) {
      held.push(bytes);
      heldBytes += bytes.length;
      if (heldBytes <= signature.fileSize) continue;
      yield* literals(Buffer.concat(held));
      held = undefined;
      continue;
    }
    yield* literals(bytes);
  }
  if (held === undefined || only === undefined) return;
  const whole = Buffer.concat(held);
  if (whole.length === signature.fileSize && (await strongHasher())(whole) === only.strong) {
    yield { kind: 'copy', index: 0, count: 1 };
  } else {
    yield* literals(whole);
  }
}
