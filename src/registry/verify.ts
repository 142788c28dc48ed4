import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { InvalidInputError, UnavailableError } from '../errors';
import { DigestMismatchError } from './errors';

/** Digest algorithms we can check, by their OCI name (node:crypto uses the same names). */
const ALGORITHMS = new Set(['sha256', 'sha384', 'sha512']);

/** A hash for `digest`'s algorithm; throws for algorithms we cannot check. */
export function hashFor(digest: string, what: string): Hash {
  const algorithm = digest.slice(0, digest.indexOf(':'));
  if (!ALGORITHMS.has(algorithm)) {
    throw new InvalidInputError(`${what}: unsupported digest algorithm in "${digest}"`);
  }
  return createHash(algorithm);
}

/** `bytes` against `digest`, for documents held whole (manifests, configs). */
export function checkDigest(bytes: Buffer, digest: string, what: string): void {
  const actual = `${digest.slice(0, digest.indexOf(':'))}:${hashFor(digest, what).update(bytes).digest('hex')}`;
  if (actual !== digest) {
    throw new DigestMismatchError(what, `content does not match its digest (got ${actual})`);
  }
}

export interface VerifyOptions {
  what: string;
  digest: string;
  size: number;
  /** Bytes of the blob that came before this stream (a resumed download). */
  offset: number;
  /**
   * The hash state after the first `offset` bytes, or undefined to check only the size of a
   * resumed download (the caller then checks the digest, as containerd's Commit does).
   */
  prefixHash: Hash | undefined;
  /** Leading bytes to hash but not pass on: a server that ignored our Range sent them again. */
  skip: number;
}

const BUFFER = 1 << 20;

/**
 * A pass-through that counts and hashes a blob as it streams. It fails as soon as the blob runs
 * past its size; at the end it fails with UnavailableError when bytes are missing (worth a
 * retry or resume) and with DigestMismatchError when the content is wrong.
 */
export class BlobVerifier extends Transform {
  private readonly hash: Hash | undefined;
  private received: number;
  private toSkip: number;

  constructor(private readonly options: VerifyOptions) {
    super({ readableHighWaterMark: BUFFER, writableHighWaterMark: BUFFER });
    const fresh = options.offset === 0 || options.skip === options.offset;
    this.hash = fresh ? hashFor(options.digest, options.what) : options.prefixHash;
    this.received = options.offset - options.skip;
    this.toSkip = options.skip;
  }

  override _transform(chunk: unknown, _encoding: BufferEncoding, done: TransformCallback): void {
    if (!Buffer.isBuffer(chunk)) {
      done(new InvalidInputError(`${this.options.what}: unexpected chunk`));
      return;
    }
    this.received += chunk.length;
    if (this.received > this.options.size) {
      done(
        new DigestMismatchError(
          this.options.what,
          `more than the ${this.options.size} bytes its descriptor gives`,
        ),
      );
      return;
    }
    this.hash?.update(chunk);
    if (this.toSkip >= chunk.length) {
      this.toSkip -= chunk.length;
      done();
      return;
    }
    const out = this.toSkip === 0 ? chunk : chunk.subarray(this.toSkip);
    this.toSkip = 0;
    done(null, out);
  }

  override _flush(done: TransformCallback): void {
    const { what, size, digest } = this.options;
    if (this.received < size) {
      done(
        new UnavailableError(`${what}: the download ended after ${this.received} of ${size} bytes`),
      );
      return;
    }
    if (this.hash === undefined) {
      done();
      return;
    }
    const actual = `${digest.slice(0, digest.indexOf(':'))}:${this.hash.digest('hex')}`;
    done(
      actual === digest
        ? null
        : new DigestMismatchError(what, `content does not match its digest (got ${actual})`),
    );
  }
}
