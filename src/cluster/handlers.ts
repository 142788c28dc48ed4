import type {
  handleServerStreamingCall,
  handleUnaryCall,
  Server,
  ServerUnaryCall,
  ServerWritableStream,
} from '@grpc/grpc-js';
import { toStatus } from '../api/status';
import { BudgieError, messageOf } from '../errors';
import type { Logger } from '../log';

/** A service and its handlers, ready for `Server.addService`. */
export interface PeerServiceBinding {
  definition: Parameters<Server['addService']>[0];
  // grpc-js types implementations loosely; each binding is built from a generated `XxxServer`
  // interface, which is where the type checking happens.
  implementation: Parameters<Server['addService']>[1];
}

/**
 * The peer server's side of the error boundary (as the agent's handlers are for the local API):
 * Budgie errors become their status, anything else is logged once and leaves as a bare INTERNAL.
 * Handlers get the call itself, because authorisation reads its TLS peer certificate.
 */
export function unary<Req, Res>(
  log: Logger,
  method: string,
  fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    // Through a promise, so that a handler that throws before its first await is still mapped.
    Promise.resolve(call.request)
      .then((request) => fn(request, call))
      .then(
        (res) => {
          callback(null, res);
        },
        (err: unknown) => {
          logFailure(log, method, call.getPeer(), err);
          callback(toStatus(err));
        },
      );
  };
}

/**
 * The server-stream form of `unary`: `send` waits for the stream to drain (backpressure) and
 * `signal` aborts when the caller cancels or goes away, so a followed log stops with its reader.
 */
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
    const controller = new AbortController();
    call.once('cancelled', () => {
      controller.abort();
    });
    const send = (res: Res): Promise<void> =>
      call.write(res)
        ? Promise.resolve()
        : new Promise((resolve) => {
            call.once('drain', resolve);
          });
    Promise.resolve(call.request)
      .then((request) => fn(request, send, controller.signal, call))
      .then(
        () => {
          call.end();
        },
        (err: unknown) => {
          logFailure(log, method, call.getPeer(), err);
          call.emit('error', toStatus(err));
        },
      );
  };
}

function logFailure(log: Logger, method: string, peer: string, err: unknown): void {
  if (err instanceof BudgieError && err.kind !== 'internal') {
    log.debug('peer call failed', { method, peer, error: err.message });
  } else {
    log.error('peer call failed unexpectedly', {
      method,
      error: err instanceof Error ? (err.stack ?? err.message) : messageOf(err),
    });
  }
}
