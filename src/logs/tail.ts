import type { FileHandle } from 'node:fs/promises';

const NEWLINE = 0x0a;

/**
 * The offset where the last `lines` lines of the first `size` bytes begin, found by reading
 * backwards in blocks from the end, so a short tail of a huge file costs a block or two. A final
 * newline ends the last line rather than starting an empty one; `lines` ≤ 0 means the whole file.
 */
export async function tailStart(
  handle: FileHandle,
  size: number,
  lines: number,
  blockSize: number,
): Promise<number> {
  if (lines <= 0 || size === 0) return 0;
  const last = await readAt(handle, size - 1, 1);
  let remaining = lines;
  let end = last[0] === NEWLINE ? size - 1 : size;
  while (end > 0) {
    const start = Math.max(0, end - blockSize);
    const block = await readAt(handle, start, end - start);
    for (let i = block.length - 1; i >= 0; i--) {
      if (block[i] === NEWLINE && --remaining === 0) return start + i + 1;
    }
    end = start;
  }
  return 0;
}

/**
 * The start of the line that holds `offset`: a time mark may fall mid-line (the shim writes in
 * chunks), and a reader wants whole lines.
 */
export async function lineStart(
  handle: FileHandle,
  offset: number,
  blockSize: number,
): Promise<number> {
  let end = offset;
  while (end > 0) {
    const start = Math.max(0, end - blockSize);
    const block = await readAt(handle, start, end - start);
    const newline = block.lastIndexOf(NEWLINE);
    if (newline >= 0) return start + newline + 1;
    end = start;
  }
  return 0;
}

/** Exactly `length` bytes from `position` (fewer only at the end of the file). */
export async function readAt(
  handle: FileHandle,
  position: number,
  length: number,
): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}
