import { Metadata, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import {
  BudgieError,
  ConflictError,
  FailedPreconditionError,
  InternalError,
  InvalidInputError,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
  type ErrorKind,
} from '../errors';

/**
 * The one translation between Budgie's error family and gRPC status codes, used by the agent's
 * servers (errors out) and by the API client (errors in). Unknown errors become INTERNAL with a
 * generic message: internals are logged by the server, never sent.
 */
const codeOfKind: Record<ErrorKind, status> = {
  'invalid-input': status.INVALID_ARGUMENT,
  'not-found': status.NOT_FOUND,
  conflict: status.ALREADY_EXISTS,
  'permission-denied': status.PERMISSION_DENIED,
  'failed-precondition': status.FAILED_PRECONDITION,
  unavailable: status.UNAVAILABLE,
  internal: status.INTERNAL,
};

/** Marks a status as sent by a Budgie server, so that a client can tell it from a transport error. */
const KIND_KEY = 'budgie-error-kind';

export function toStatus(err: unknown): Partial<StatusObject> {
  const metadata = new Metadata();
  if (err instanceof BudgieError && err.kind !== 'internal') {
    metadata.set(KIND_KEY, err.kind);
    return { code: codeOfKind[err.kind], details: err.message, metadata };
  }
  metadata.set(KIND_KEY, 'internal');
  return {
    code: status.INTERNAL,
    details: 'internal error in the agent (see its log for details)',
    metadata,
  };
}

/**
 * Turns a failed call into a Budgie error. `unreachable` builds the message for a server that did
 * not answer at all (no status from a Budgie server), which deserves advice rather than details.
 */
export function fromStatus(err: ServiceError, unreachable: () => BudgieError): BudgieError {
  const fromServer = err.metadata.get(KIND_KEY).length > 0;
  if (!fromServer && (err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED)) {
    return unreachable();
  }
  const details = err.details || err.message;
  switch (err.code) {
    case status.INVALID_ARGUMENT:
    case status.OUT_OF_RANGE:
      return new InvalidInputError(details);
    case status.NOT_FOUND:
      return new NotFoundError(details);
    case status.ALREADY_EXISTS:
      return new ConflictError(details);
    case status.PERMISSION_DENIED:
    case status.UNAUTHENTICATED:
      return new PermissionDeniedError(details);
    case status.FAILED_PRECONDITION:
      return new FailedPreconditionError(details);
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
    case status.CANCELLED:
      return new UnavailableError(details);
    default:
      return new InternalError(details, { cause: err });
  }
}

export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number';
}
