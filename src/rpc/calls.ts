import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import type { BudgieError } from '../errors';
import { fromStatus, isServiceError } from './status';

/** Maps any failure of a call to a Budgie error; non-gRPC errors pass through untouched. */
export type ErrorMapper = (err: unknown) => Error;

export function errorMapper(unreachable: () => BudgieError): ErrorMapper {
  return (err) => {
    if (isServiceError(err)) return fromStatus(err, unreachable);
    return err instanceof Error ? err : new Error(String(err));
  };
}

/** Awaits a callback-style unary call, mapping its error. */
export function unary<T>(
  mapError: ErrorMapper,
  start: (done: (err: ServiceError | null, value?: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    start((err, value) => {
      if (err) reject(mapError(err));
      else if (value === undefined) reject(new Error('empty response'));
      else resolve(value);
    });
  });
}

/** Iterates a server stream, mapping its error; leaving the loop early cancels the call. */
export async function* streamOf<T>(
  mapError: ErrorMapper,
  call: ClientReadableStream<T>,
): AsyncGenerator<T> {
  try {
    for await (const message of call) {
      yield message as T;
    }
  } catch (err) {
    throw mapError(err);
  } finally {
    call.cancel();
  }
}
