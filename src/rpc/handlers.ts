import type {
  handleBidiStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  Server,
  ServerDuplexStream,
  ServerUnaryCall,
  ServerWritableStream,
  ServiceError,
} from '@grpc/grpc-js';
import { toStatus } from './status';
import { BudgieError, messageOf } from '../errors';
import type { Logger } from '../log';

/**
 * Adapters from async functions to grpc-js handlers, for the local API and the peer API alike.
 * They are the server side of the error boundary: a Budgie error becomes its status code and
 * message; anything else is logged here, once, and leaves as a bare INTERNAL. Handlers also get
 * the call itself, because the peer API authorises by its TLS peer certificate.
 */

/** A service and its handlers, ready for `Server.addService`. */
export interface ServiceBinding {
  definition: Parameters<Server['addService']>[0];
  // grpc-js types its implementation map loosely; each binding is built from a generated
  // `XxxServer` interface, which is where the type checking happens.
  implementation: Parameters<Server['addService']>[1];
}

function fail(log: Logger, method: string, peer: string, err: unknown): Partial<ServiceError> {
  if (err instanceof BudgieError && err.kind !== 'internal') {
    log.debug('call failed', { method, peer, error: err.message });
  } else {
    log.error('call failed unexpectedly', {
      method,
      peer,
      error: err instanceof Error ? (err.stack ?? err.message) : messageOf(err),
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
  fn: (req: Req, signal: AbortSignal, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    // Through a promise, so that a handler that throws before its first await is still mapped.
    Promise.resolve(call.request)
      .then((request) => fn(request, signalOf(call), call))
      .then(
        (res) => {
          callback(null, res);
        },
        (err: unknown) => {
          callback(fail(log, method, call.getPeer(), err));
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
  fn: (
    req: Req,
    send: (res: Res) => Promise<void>,
    signal: AbortSignal,
    call: ServerWritableStream<Req, Res>,
  ) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call) => {
    Promise.resolve(call.request)
      .then((request) => fn(request, sender(call), signalOf(call), call))
      .then(
        () => {
          call.end();
        },
        (err: unknown) => {
          call.emit('error', fail(log, method, call.getPeer(), err));
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
    Promise.resolve()
      .then(() => fn(requests, sender(call), signalOf(call)))
      .then(
        () => {
          call.end();
        },
        (err: unknown) => {
          call.emit('error', fail(log, method, call.getPeer(), err));
        },
      );
  };
}
