import type { FileHandle } from 'node:fs/promises';
import { InvalidInputError } from '../errors';
import type { PatchTarget } from './patch';

/** Bytes gathered before each write: a literal is a few KiB, a copy run a few MiB. */
const STAGE_BYTES = 1024 * 1024;

/**
 * A file rebuilt from a delta, written in large pieces: literals and copied ranges are gathered
 * in a staging buffer (copies read from the old copy straight into it), and each full buffer is
 * passed to `seen` (the content hash) and written while the other buffer fills. Two buffers in
 * all, whatever the file's size: a fresh buffer per read, and a write per literal, cost more
 * here in page faults, garbage collection and thread trips than the bytes themselves.
 */
export class RebuiltFile implements PatchTarget {
  private staging: Buffer;
  private spare: Buffer;
  private filled = 0;
  private position = 0;
  /** The write of the other buffer, if one is in flight. */
  private writing: Promise<void> = Promise.resolve();

  /** `size`: the bytes expected at most (a small file takes small buffers). */
  constructor(
    private readonly out: FileHandle,
    private readonly basis: FileHandle | undefined,
    size: number,
    private readonly seen: (chunk: Buffer) => void,
  ) {
    const stage = Math.max(1, Math.min(STAGE_BYTES, size));
    this.staging = Buffer.allocUnsafeSlow(stage);
    this.spare = Buffer.allocUnsafeSlow(stage);
  }

  async append(data: Buffer): Promise<void> {
    for (let at = 0; at < data.length;) {
      const n = Math.min(this.staging.length - this.filled, data.length - at);
      data.copy(this.staging, this.filled, at, at + n);
      this.filled += n;
      at += n;
      if (this.filled === this.staging.length) await this.flush();
    }
  }

  async appendCopy(offset: number, length: number): Promise<void> {
    for (let at = offset; at < offset + length;) {
      const n = Math.min(this.staging.length - this.filled, offset + length - at);
      const read =
        this.basis === undefined
          ? 0
          : (await this.basis.read(this.staging, this.filled, n, at)).bytesRead;
      if (read !== n) {
        throw new InvalidInputError(`delta: the copy changed while it was read (at byte ${at})`);
      }
      this.filled += n;
      at += n;
      if (this.filled === this.staging.length) await this.flush();
    }
  }

  /** Writes what is staged and waits for every write; the file then holds all it was given. */
  async finish(): Promise<void> {
    await this.flush();
    await this.writing;
  }

  /** Waits for a write in flight, whatever its outcome: the caller failed already. */
  async abandon(): Promise<void> {
    await this.writing.catch(() => undefined);
  }

  private async flush(): Promise<void> {
    if (this.filled === 0) return;
    const chunk = this.staging.subarray(0, this.filled);
    this.seen(chunk);
    await this.writing;
    this.writing = writeAll(this.out, chunk, this.position);
    // The failure, if any, is awaited by the next flush or by finish: never left unhandled.
    this.writing.catch(() => undefined);
    this.position += this.filled;
    [this.staging, this.spare] = [this.spare, this.staging];
    this.filled = 0;
  }
}

async function writeAll(fh: FileHandle, chunk: Buffer, position: number): Promise<void> {
  for (let at = 0; at < chunk.length;) {
    const { bytesWritten } = await fh.write(chunk, at, chunk.length - at, position + at);
    at += bytesWritten;
  }
}
