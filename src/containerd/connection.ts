import {
  Client,
  credentials,
  Metadata,
  type CallOptions,
  type ClientDuplexStream,
  type MethodDefinition,
} from '@grpc/grpc-js';
import { InternalError } from '../errors';
import { containerdError, methodName } from './errors';

/** Per-call options every wrapper method accepts. */
export interface CallOpts {
  signal?: AbortSignal;
  /** Deadline of a unary call; `Infinity` for none (e.g. waiting for a task to exit). */
  timeoutMs?: number;
  /** Runs the call under a lease (containerd's `containerd-lease` header), keeping what it creates. */
  lease?: string;
}

export interface ContainerdConnectionOptions {
  /** Path of containerd's gRPC unix socket, e.g. /run/containerd/containerd.sock. */
  socket: string;
  /** The containerd namespace every call works in. */
  namespace: string;
  /** Deadline of unary calls that set none. */
  defaultTimeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/**
 * grpc-js waits up to 2 minutes between reconnection tries by default, failing every call
 * meanwhile: after a containerd restart the agent would stay cut off long after containerd is
 * back. Trying a local socket every 2 s at most costs nothing.
 */
const RECONNECT_BACKOFF_MS = { initial: 500, max: 2000 };
/** containerd accepts and sends messages up to 16 MiB (its defaults.DefaultMaxRecvMsgSize). */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/**
 * containerd sends content in 1 MiB messages; with HTTP/2's default 64 KiB receive window it waits
 * for a window update every 64 KiB. 8 MiB lets a blob read stream on (measured: about 1.7× faster).
 */
const RECEIVE_WINDOW_BYTES = 8 * 1024 * 1024;

/**
 * One gRPC channel to one containerd, bound to one namespace. Calls come out as promises and async
 * iterables, with deadlines, AbortSignal and errors mapped to Budgie's family (see errors.ts).
 */
export class ContainerdConnection {
  readonly socket: string;
  readonly namespace: string;
  private readonly client: Client;
  private readonly defaultTimeoutMs: number;

  constructor(options: ContainerdConnectionOptions) {
    this.socket = options.socket;
    this.namespace = options.namespace;
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.client = new Client(`unix://${options.socket}`, credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      'grpc.initial_reconnect_backoff_ms': RECONNECT_BACKOFF_MS.initial,
      'grpc.max_reconnect_backoff_ms': RECONNECT_BACKOFF_MS.max,
      'grpc-node.flow_control_window': RECEIVE_WINDOW_BYTES,
    });
  }

  unary<Req, Res>(
    method: MethodDefinition<Req, Res>,
    request: Req,
    opts: CallOpts = {},
  ): Promise<Res> {
    const { signal } = opts;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const onAbort = (): void => {
        call.cancel();
      };
      const call = this.client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        this.metadata(opts),
        this.deadline(opts.timeoutMs ?? this.defaultTimeoutMs),
        (err, value) => {
          signal?.removeEventListener('abort', onAbort);
          if (signal?.aborted) reject(abortReason(signal));
          else if (err) reject(containerdError(err, this.socket, method.path));
          else if (value === undefined) reject(emptyResponse(method.path));
          else resolve(value);
        },
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** A server stream as an async iterable; leaving the loop early (or aborting) cancels the call. */
  async *serverStream<Req, Res>(
    method: MethodDefinition<Req, Res>,
    request: Req,
    opts: Omit<CallOpts, 'timeoutMs'> = {},
  ): AsyncGenerator<Res> {
    const { signal } = opts;
    signal?.throwIfAborted();
    const call = this.client.makeServerStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      this.metadata(opts),
    );
    const onAbort = (): void => {
      call.cancel();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const message of call) {
        yield message as Res;
      }
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      throw containerdError(err, this.socket, method.path);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      call.cancel();
    }
  }

  /** A bidirectional stream; its 'error' events carry raw statuses: map them with `mapError`. */
  duplex<Req, Res>(
    method: MethodDefinition<Req, Res>,
    opts: Omit<CallOpts, 'timeoutMs'> = {},
  ): ClientDuplexStream<Req, Res> {
    const { signal } = opts;
    signal?.throwIfAborted();
    const call = this.client.makeBidiStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      this.metadata(opts),
    );
    if (signal !== undefined) {
      const onAbort = (): void => {
        call.cancel();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      call.once('close', () => {
        signal.removeEventListener('abort', onAbort);
      });
    }
    return call;
  }

  mapError(err: unknown, path: string): Error {
    return containerdError(err, this.socket, path);
  }

  close(): void {
    this.client.close();
  }

  private metadata(opts: CallOpts): Metadata {
    const metadata = new Metadata();
    metadata.set('containerd-namespace', this.namespace);
    if (opts.lease !== undefined) metadata.set('containerd-lease', opts.lease);
    return metadata;
  }

  private deadline(timeoutMs: number): Partial<CallOptions> {
    return Number.isFinite(timeoutMs) ? { deadline: Date.now() + timeoutMs } : {};
  }
}

/**
 * Why an aborted call failed: the signal's own reason when it is an Error (an AbortError
 * DOMException by default), else an AbortError carrying it as the cause.
 */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const message =
    typeof reason === 'object' &&
    reason !== null &&
    'message' in reason &&
    typeof reason.message === 'string'
      ? reason.message
      : 'This operation was aborted';
  return Object.assign(new Error(message, { cause: reason }), { name: 'AbortError' });
}

/** containerd omitted a message our code relies on: a protocol mismatch, so a bug to report. */
export function emptyResponse(path: string, field?: string): InternalError {
  const what = field === undefined ? 'an empty response' : `no ${field}`;
  return new InternalError(`containerd ${methodName(path)} returned ${what}`);
}

/** A message field containerd always sets; its absence is a protocol mismatch. */
export function required<T>(value: T | undefined, path: string, field: string): T {
  if (value === undefined) throw emptyResponse(path, field);
  return value;
}
