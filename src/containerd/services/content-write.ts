import type { ClientDuplexStream } from '@grpc/grpc-js';
import {
  WriteAction,
  WriteContentRequest,
  type WriteContentResponse,
} from '../../gen/containerd/services/content/v1/content';
import { ConflictError, InternalError } from '../../errors';

export type WriteContentInit = Parameters<typeof WriteContentRequest.fromPartial>[0];

/**
 * One content Write stream. containerd answers every request with exactly one response, in order,
 * so requests may be pipelined: each `send` resolves with its own answer.
 */
export class ContentWriteSession {
  private readonly pending: {
    resolve(res: WriteContentResponse): void;
    reject(err: Error): void;
  }[] = [];
  private failure: Error | undefined;

  constructor(
    private readonly call: ClientDuplexStream<WriteContentRequest, WriteContentResponse>,
    mapError: (err: unknown) => Error,
  ) {
    call.on('data', (res: WriteContentResponse) => {
      this.pending.shift()?.resolve(res);
    });
    call.on('error', (err: unknown) => {
      this.fail(mapError(err));
    });
    call.on('end', () => {
      this.fail(new InternalError('containerd closed a content write stream before answering'));
    });
  }

  send(request: WriteContentInit): Promise<WriteContentResponse> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.call.write(WriteContentRequest.fromPartial(request));
    });
  }

  /** Ends the stream; the ingest stays in containerd (resumable by ref) unless it was committed. */
  close(): void {
    this.call.end();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.pending.splice(0)) waiter.reject(err);
  }
}

export interface WriteBlobRequest {
  /** Ingest ref: stable per blob (e.g. its digest) so that an interrupted write resumes. */
  ref: string;
  /** Digest the committed blob must have. */
  expected: string;
  /** Size in bytes the committed blob must have. */
  total: number;
  /** Labels set at commit, e.g. `containerd.io/gc.ref.content.*`. */
  labels?: Record<string, string>;
  /**
   * The blob's bytes from `offset` on (where an earlier ingest with this ref left off). Pieces may
   * be held until a full chunk is collected: the source must not reuse their memory.
   */
  open(offset: number): AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** Called with the bytes written so far, after each acknowledged chunk. */
  onProgress?(written: number): void;
}

export interface WriteBlobResult {
  digest: string;
  size: number;
  /** The blob was already in the content store; nothing was written. */
  existed: boolean;
}

/** Bytes per WRITE message: well under containerd's 16 MiB message limit, cheap per message. */
const CHUNK_BYTES = 1024 * 1024;
/** WRITE messages in flight before we wait for an answer: bounds memory, keeps the socket busy. */
const WINDOW = 8;

/** Writes one blob through a session: stat (to resume), write in pipelined chunks, commit. */
export async function writeBlob(
  session: ContentWriteSession,
  request: WriteBlobRequest,
): Promise<WriteBlobResult> {
  const { ref, expected, total } = request;
  const existed = { digest: expected, size: total, existed: true };
  let stat: WriteContentResponse;
  try {
    stat = await session.send({ action: WriteAction.STAT, ref, total, expected });
  } catch (err) {
    // containerd refuses to open an ingest for a digest it already has.
    if (err instanceof ConflictError) return existed;
    throw err;
  }
  // An ingest longer than the blob cannot be resumed: writing at offset 0 truncates it.
  let offset = stat.offset <= total ? stat.offset : 0;
  const inflight: Promise<WriteContentResponse>[] = [];
  const settle = async (): Promise<void> => {
    const next = inflight.shift();
    if (next === undefined) return;
    const res = await next;
    request.onProgress?.(res.offset);
  };
  const send = async (data: Buffer): Promise<void> => {
    const sent = session.send({ action: WriteAction.WRITE, ref, offset, data });
    // Rejections surface when awaited in order; this keeps an early one from going unhandled.
    sent.catch(() => undefined);
    inflight.push(sent);
    offset += data.length;
    if (inflight.length >= WINDOW) await settle();
  };
  // Sources yield pieces of any size (64 KiB from files): send them as full chunks.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    if (pendingBytes > 0) await send(Buffer.concat(pending));
    pending = [];
    pendingBytes = 0;
    while (inflight.length > 0) await settle();
  };
  try {
    for await (const piece of request.open(offset)) {
      pending.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
      pendingBytes += piece.byteLength;
      if (pendingBytes < CHUNK_BYTES) continue;
      const joined = Buffer.concat(pending);
      let at = 0;
      for (; joined.length - at >= CHUNK_BYTES; at += CHUNK_BYTES) {
        await send(joined.subarray(at, at + CHUNK_BYTES));
      }
      pending = [joined.subarray(at)];
      pendingBytes = joined.length - at;
    }
  } catch (err) {
    // The source failed (e.g. a download broke): keep what arrived, so a retry resumes after it.
    await flush().catch(() => undefined);
    throw err;
  }
  await flush();
  let committed: WriteContentResponse;
  try {
    committed = await session.send({
      action: WriteAction.COMMIT,
      ref,
      offset,
      total,
      expected,
      labels: request.labels ?? {},
    });
  } catch (err) {
    // Another writer committed the same blob meanwhile.
    if (err instanceof ConflictError) return existed;
    throw err;
  }
  if (committed.digest !== expected) {
    throw new InternalError(`containerd committed ${committed.digest} for ${ref}, not ${expected}`);
  }
  return { digest: committed.digest, size: total, existed: false };
}
