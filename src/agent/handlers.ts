import type {
  handleBidiStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  ServerDuplexStream,
  ServerWritableStream,
  ServiceError,
} from '@grpc/grpc-js';
import { toStatus } from '../api/status';
import { BudgieError } from '../errors';
import type { Logger } from '../log';

/**
 * Adapters from async functions to grpc-js handlers. They are the server side of the error
 * boundary: a Budgie error becomes its status code and message; anything else is logged here,
 * once, and leaves as a bare INTERNAL.
 */
function fail(log: Logger, method: string, err: unknown): Partial<ServiceError> {
  if (err instanceof BudgieError && err.kind !== 'internal') {
    log.debug('call failed', { method, error: err.message });
  } else {
    log.error('call failed unexpectedly', {
      method,
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
  }
  return toStatus(err);
}

/** An AbortSignal that fires when the client cancels or disconnects. */
function signalOf(call: { once(event: 'cancelled', cb: () => void): unknown }): AbortSignal {
  const controller = new AbortController();
  call.once('cancelled', () => {
    controller.abort();
  });
  return controller.signal;
}

export function unary<Req, Res>(
  log: Logger,
  method: string,
  fn: (req: Req, signal: AbortSignal) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request, signalOf(call)).then(
      (res) => {
        callback(null, res);
      },
      (err: unknown) => {
        callback(fail(log, method, err));
      },
    );
  };
}

/** Writes with backpressure: resolves when the stream can take more. */
export function sender<Res>(
  call: ServerWritableStream<unknown, Res> | ServerDuplexStream<unknown, Res>,
): (message: Res) => Promise<void> {
  return (message) =>
    call.write(message)
      ? Promise.resolve()
      : new Promise((resolve) => {
          call.once('drain', resolve);
        });
}

export function serverStream<Req, Res>(
  log: Logger,
  method: string,
  fn: (req: Req, send: (res: Res) => Promise<void>, signal: AbortSignal) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call) => {
    fn(call.request, sender(call), signalOf(call)).then(
      () => {
        call.end();
      },
      (err: unknown) => {
        call.emit('error', fail(log, method, err));
      },
    );
  };
}

export function bidiStream<Req, Res>(
  log: Logger,
  method: string,
  fn: (
    requests: AsyncIterable<Req>,
    send: (res: Res) => Promise<void>,
    signal: AbortSignal,
  ) => Promise<void>,
): handleBidiStreamingCall<Req, Res> {
  return (call) => {
    // A plain for-await over the call would destroy the duplex when the requests end, and
    // with it the response side, before the handler has answered.
    const requests = call.iterator({ destroyOnReturn: false }) as AsyncIterable<Req>;
    fn(requests, sender(call), signalOf(call)).then(
      () => {
        call.end();
      },
      (err: unknown) => {
        call.emit('error', fail(log, method, err));
      },
    );
  };
}
