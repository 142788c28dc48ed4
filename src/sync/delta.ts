import { RollingChecksum, weakChecksum, type WeakFilter } from './rolling';
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

/**
 * A table of which weak checksums the receiver's blocks have, looked up at every byte before the
 * map is (rsync's tag table, but larger): with 16 slots a block, about one position in sixteen
 * of new bytes costs a map lookup, not one in seven as with rsync's 65,536 slots at 10,000 blocks.
 */
class Tags implements WeakFilter {
  private readonly slots: Uint8Array;
  private readonly shift: number;

  constructor(weaks: readonly number[]) {
    const bits = Math.min(24, Math.max(16, Math.ceil(Math.log2(16 * weaks.length + 1))));
    this.slots = new Uint8Array(1 << bits);
    this.shift = 32 - bits;
    for (const weak of weaks) this.slots[this.slotOf(weak)] = 1;
  }

  /** The multiplicative hash's top bits: `a` and `b` both reach every slot. */
  private slotOf(weak: number): number {
    return Math.imul(weak, 0x9e3779b1) >>> this.shift;
  }

  has(weak: number): boolean {
    return this.slots[this.slotOf(weak)] === 1;
  }
}

/**
 * The sender's bytes between the pending literal's start and the end of what was read, in one
 * buffer of its own that is compacted, not reallocated: chunks are copied in as they come (so a
 * source may reuse its buffers once the next one is asked for), and the bytes already sent are
 * dropped by moving the live ones to the front. A fresh buffer per chunk cost more here in page
 * faults and garbage collection than the copy does.
 */
class Window {
  bytes: Buffer;
  /** End of the bytes read. */
  end = 0;

  constructor(capacity: number) {
    this.bytes = Buffer.allocUnsafeSlow(capacity);
  }

  /** Appends `chunk`, first dropping the `keepFrom` bytes before it; returns how far they moved. */
  append(chunk: Uint8Array, keepFrom: number): number {
    let moved = 0;
    if (this.end + chunk.length > this.bytes.length) {
      const live = this.end - keepFrom;
      if (live + chunk.length > this.bytes.length) {
        const grown = Buffer.allocUnsafeSlow(Math.max(2 * this.bytes.length, live + chunk.length));
        this.bytes.copy(grown, 0, keepFrom, this.end);
        this.bytes = grown;
      } else {
        this.bytes.copyWithin(0, keepFrom, this.end);
      }
      this.end = live;
      moved = keepFrom;
    }
    this.bytes.set(chunk, this.end);
    this.end += chunk.length;
    return moved;
  }
}

/**
 * The rsync algorithm, sender side: slides a block-sized window over the new file one byte at a
 * time, and where the window's weak checksum and then its strong hash match a block of the
 * receiver's copy, says "copy that block"; every byte in between goes as a literal. An edit
 * costs about one block plus its own bytes, and an insert at the start of a file costs only
 * itself. Memory stays at a few blocks and chunks, whatever the file's size. Each chunk of
 * `source` is copied before the next is asked for.
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
  const last = signature.blocks.length - 1;
  // Full blocks are matched while sliding; a short last block only at the very end.
  const tailSize = signature.fileSize - last * blockSize;
  signature.blocks.forEach((block, index) => {
    if (index === last && tailSize !== blockSize) return;
    const list = byWeak.get(block.weak);
    if (list === undefined) byWeak.set(block.weak, [index]);
    else list.push(index);
  });
  const tags = new Tags([...byWeak.keys()]);
  const roller = new RollingChecksum(blockSize);

  const reader =
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  const win = new Window(4 * (blockSize + MAX_LITERAL_BYTES));
  let ended = false;
  /** Start of the bytes not yet sent (the pending literal), and of the window, in `win`. */
  let lit = 0;
  let pos = 0;
  /** A copy run not yet sent, to merge with the next matching block. */
  let run: { index: number; count: number } | undefined;
  /** Whether `roller` holds the weak checksum of the window at `pos`. */
  let rolling = false;

  const literal = function* (end: number): Generator<DeltaOp> {
    if (end <= lit) return;
    if (run !== undefined) {
      yield { kind: 'copy', ...run };
      run = undefined;
    }
    // A copy: the window is reused.
    yield { kind: 'literal', data: Buffer.from(win.bytes.subarray(lit, end)) };
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
    const candidates = byWeak.get(weak);
    if (candidates === undefined) return undefined;
    const hash = strong(win.bytes.subarray(at, at + blockSize));
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
    return strong(win.bytes.subarray(at, at + blockSize)) === block.strong ? next : undefined;
  };

  for (;;) {
    while (!ended && win.end - pos <= blockSize) {
      const next = await reader.next();
      if (next.done === true) ended = true;
      else {
        const moved = win.append(next.value, lit);
        lit -= moved;
        pos -= moved;
      }
    }
    if (win.end - pos < blockSize) break;
    let found: number | undefined;
    if (!rolling) {
      // Right after a copied block, the likeliest match is the block after it: an unchanged
      // file is a run of them, confirmed by the strong hash alone, with no weak sum to compute.
      found = following(pos);
      if (found === undefined) {
        const weak = weakChecksum(win.bytes.subarray(pos, pos + blockSize));
        roller.start(weak);
        rolling = true;
        if (tags.has(weak)) found = match(pos, weak);
      }
    }
    // Slide while the window holds the next byte, sending a literal whenever one is full.
    const stop = win.end - blockSize;
    while (found === undefined && pos < stop) {
      pos = roller.slide(win.bytes, pos, Math.min(stop, lit + MAX_LITERAL_BYTES), tags);
      if (tags.has(roller.value)) found = match(pos, roller.value);
      if (found === undefined && pos - lit >= MAX_LITERAL_BYTES) yield* literal(pos);
    }
    if (found === undefined) {
      if (ended) break;
      continue;
    }
    yield* copy(found);
    pos += blockSize;
    lit = pos;
    rolling = false;
  }
  // Fewer than a block left: it may be the receiver's short last block, else it is new bytes.
  const rest = win.bytes.subarray(pos, win.end);
  if (last >= 0 && tailSize !== blockSize && rest.length === tailSize && tailSize > 0) {
    const tail = signature.blocks[last];
    if (tail !== undefined && strong(rest) === tail.strong) {
      yield* copy(last);
      pos = win.end;
      lit = pos;
    }
  }
  while (win.end - lit > MAX_LITERAL_BYTES) yield* literal(lit + MAX_LITERAL_BYTES);
  yield* literal(win.end);
  if (run !== undefined) yield { kind: 'copy', ...run };
}

/**
 * The delta against a copy shorter than a block (or none): the new bytes as literals of
 * MAX_LITERAL_BYTES at most, without sliding a window, unless the new file is exactly the
 * receiver's copy (a rename or copy of a small file), which is one block to copy. Each chunk is
 * copied as it comes: a source may reuse its buffer.
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
      yield { kind: 'literal', data: Buffer.from(bytes.subarray(at, at + MAX_LITERAL_BYTES)) };
    }
  };
  for await (const chunk of source) {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (held !== undefined) {
      held.push(Buffer.from(bytes));
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
