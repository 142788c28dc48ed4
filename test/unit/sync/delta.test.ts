import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { InvalidInputError } from '../../../src/errors';
import {
  applyDelta,
  blockSizeFor,
  deltaOf,
  MAX_LITERAL_BYTES,
  signatureOf,
  type DeltaOp,
} from '../../../src/sync';

/**
 * `data` as a stream of chunks of `chunk` bytes, as a file read gives it: in one buffer that is
 * overwritten with zeros, then the next chunk, when the next chunk is asked for (a reader may
 * keep no chunk once it asks for the next).
 */
async function* chunks(data: Buffer, chunk = 7919): AsyncGenerator<Buffer> {
  const buffer = Buffer.alloc(chunk);
  for (let at = 0; at < data.length; at += chunk) {
    buffer.fill(0);
    const n = data.copy(buffer, 0, at, at + chunk);
    await Promise.resolve();
    yield buffer.subarray(0, n);
  }
}

async function collect(ops: AsyncIterable<DeltaOp>): Promise<DeltaOp[]> {
  const out: DeltaOp[] = [];
  for await (const op of ops) out.push(op);
  return out;
}

function replay(ops: DeltaOp[]): AsyncIterable<DeltaOp> {
  return Readable.from(ops, { objectMode: true });
}

/** Sends `next` against `basis`: the instructions, and the file the receiver rebuilds. */
async function sync(basis: Buffer, next: Buffer, blockSize: number, chunk?: number) {
  const signature = await signatureOf(chunks(basis, chunk), blockSize);
  const ops = await collect(deltaOf(signature, chunks(next, chunk)));
  const parts: Buffer[] = [];
  await applyDelta({ blockSize, fileSize: basis.length }, replay(ops), next.length, {
    append: (data) => {
      parts.push(Buffer.from(data));
      return Promise.resolve();
    },
    appendCopy: (offset, length) => {
      parts.push(basis.subarray(offset, offset + length));
      return Promise.resolve();
    },
  });
  const literal = ops.reduce((n, op) => n + (op.kind === 'literal' ? op.data.length : 0), 0);
  return { ops, rebuilt: Buffer.concat(parts), literal };
}

/** One step of an edit script, at a position given as a fraction of the file. */
interface Edit {
  kind: 'insert' | 'delete' | 'overwrite';
  at: number;
  bytes: Uint8Array;
}

/** An edit script: inserts, deletes and overwrites at positions given as fractions. */
const edit: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom<Edit['kind']>('insert', 'delete', 'overwrite'),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  bytes: fc.uint8Array({ minLength: 1, maxLength: 300 }),
});

function applyEdits(data: Buffer, edits: Edit[]): Buffer {
  let out = data;
  for (const e of edits) {
    const at = Math.floor(e.at * out.length);
    const bytes = Buffer.from(e.bytes);
    if (e.kind === 'insert') out = Buffer.concat([out.subarray(0, at), bytes, out.subarray(at)]);
    else if (e.kind === 'delete')
      out = Buffer.concat([out.subarray(0, at), out.subarray(at + bytes.length)]);
    else out = Buffer.concat([out.subarray(0, at), bytes, out.subarray(at + bytes.length)]);
  }
  return out;
}

describe('delta sync (the rsync algorithm)', () => {
  it('round-trips any edit script, whatever the block and chunk sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 6000 }),
        fc.array(edit, { maxLength: 8 }),
        fc.integer({ min: 16, max: 700 }),
        fc.integer({ min: 1, max: 5000 }),
        async (bytes, edits, blockSize, chunk) => {
          const basis = Buffer.from(bytes);
          const next = applyEdits(basis, edits);
          const { rebuilt } = await sync(basis, next, blockSize, chunk);
          expect(rebuilt.equals(next)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('round-trips chunks larger than its window, which then grows', async () => {
    const basis = randomBytes(1_500_000);
    const next = applyEdits(basis, [
      { kind: 'insert', at: 0.1, bytes: randomBytes(200) },
      { kind: 'overwrite', at: 0.7, bytes: randomBytes(300) },
    ]);
    const { rebuilt, literal } = await sync(basis, next, 512, 700_000);
    expect(rebuilt.equals(next)).toBe(true);
    expect(literal).toBeLessThan(4 * 512 + 500);
  });

  it('round-trips files that repeat themselves (many blocks share checksums)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 200 }),
        fc.array(edit, { maxLength: 4 }),
        async (unit, times, edits) => {
          const basis = Buffer.concat(Array.from({ length: times }, () => Buffer.from(unit)));
          const next = applyEdits(basis, edits);
          expect((await sync(basis, next, 32)).rebuilt.equals(next)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('sends little for scattered small edits in a large file', async () => {
    const basis = randomBytes(4 * 1024 * 1024);
    const next = Buffer.from(basis);
    for (let i = 0; i < 20; i++)
      randomBytes(100).copy(next, Math.floor((i + 0.5) * (next.length / 20)));
    const blockSize = blockSizeFor(basis.length);
    const { rebuilt, literal } = await sync(basis, next, blockSize, 65536);
    expect(rebuilt.equals(next)).toBe(true);
    // Each edit costs at most the blocks it touches.
    expect(literal).toBeLessThanOrEqual(20 * 2 * blockSize);
  });

  it('sends only the inserted bytes for an insert at the start', async () => {
    const basis = randomBytes(1024 * 1024);
    const next = Buffer.concat([Buffer.from('a new first line\n'), basis]);
    const { rebuilt, literal, ops } = await sync(basis, next, blockSizeFor(basis.length), 65536);
    expect(rebuilt.equals(next)).toBe(true);
    expect(literal).toBe(17);
    // The untouched rest goes as runs of copied blocks, one after the other, 256 blocks each at
    // most (so a long run still sends a message every few MiB).
    const copies = ops.filter((op) => op.kind === 'copy');
    expect(copies.map((op) => op.count)).toEqual([256, 256, 256, 256]);
    expect(copies.map((op) => op.index)).toEqual([0, 256, 512, 768]);
  });

  it('cuts long literal runs, so that no instruction is unbounded', async () => {
    const { ops, rebuilt } = await sync(Buffer.alloc(0), randomBytes(300_000), 1024);
    expect(rebuilt.length).toBe(300_000);
    expect(ops.every((op) => op.kind === 'copy' || op.data.length <= MAX_LITERAL_BYTES)).toBe(true);
  });

  it('refuses instructions a hostile sender could craft', async () => {
    const basis = randomBytes(10_000);
    const apply = (ops: DeltaOp[], expected = 1_000_000) =>
      applyDelta({ blockSize: 1000, fileSize: basis.length }, replay(ops), expected, {
        append: () => Promise.resolve(),
        appendCopy: () => Promise.resolve(),
      });
    await expect(apply([{ kind: 'copy', index: 9, count: 2 }])).rejects.toThrow(InvalidInputError);
    await expect(apply([{ kind: 'copy', index: -1, count: 1 }])).rejects.toThrow(/not in a copy/);
    await expect(apply([{ kind: 'copy', index: 0.5, count: 1 }])).rejects.toThrow(/not in a copy/);
    await expect(
      apply([{ kind: 'literal', data: Buffer.alloc(MAX_LITERAL_BYTES + 1) }]),
    ).rejects.toThrow(/literal of/);
    await expect(apply([{ kind: 'copy', index: 0, count: 10 }], 5000)).rejects.toThrow(
      /more than the 5000 bytes announced/,
    );
  });
});
