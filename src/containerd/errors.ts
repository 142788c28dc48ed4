import { status, type ServiceError } from '@grpc/grpc-js';
import {
  ConflictError,
  FailedPreconditionError,
  InternalError,
  InvalidInputError,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
  type BudgieError,
} from '../errors';

/**
 * The one translation of containerd's gRPC statuses into Budgie errors. containerd's own details
 * (e.g. `container "web-1" in namespace "budgie": not found`) are already written for people, so
 * they are kept; transport failures get advice instead.
 */
export function fromContainerdStatus(err: ServiceError, socket: string, path: string): BudgieError {
  const details = err.details || err.message;
  const method = methodName(path);
  switch (err.code) {
    case status.UNAVAILABLE:
      if (isTransportFailure(details)) return unreachable(socket, details);
      // containerd itself answers UNAVAILABLE for e.g. an ingest ref locked by another writer.
      return new UnavailableError(`containerd ${method}: ${details}`);
    case status.DEADLINE_EXCEEDED:
      return new UnavailableError(`containerd at ${socket} did not answer ${method} in time`);
    case status.CANCELLED:
      return new UnavailableError(`containerd ${method} was cancelled: ${details}`);
    case status.NOT_FOUND:
      return new NotFoundError(details);
    case status.ALREADY_EXISTS:
      return new ConflictError(details);
    case status.FAILED_PRECONDITION:
      return new FailedPreconditionError(details);
    case status.INVALID_ARGUMENT:
    case status.OUT_OF_RANGE:
      return new InvalidInputError(details);
    case status.PERMISSION_DENIED:
    case status.UNAUTHENTICATED:
      return new PermissionDeniedError(`containerd ${method}: ${details}`);
    case status.UNIMPLEMENTED:
      return new FailedPreconditionError(
        `containerd at ${socket} does not implement ${method}: Budgie needs containerd 1.6 or later`,
      );
    default:
      return new InternalError(`containerd ${method} failed: ${details}`, { cause: err });
  }
}

/** Maps any failure of a containerd call; errors that are not gRPC statuses are bugs of ours. */
export function containerdError(err: unknown, socket: string, path: string): Error {
  if (isServiceError(err)) return fromContainerdStatus(err, socket, path);
  if (err instanceof Error) return err;
  return new InternalError(`containerd ${methodName(path)} failed: ${String(err)}`, { cause: err });
}

export function isServiceError(err: unknown): err is ServiceError {
  return (
    err instanceof Error &&
    'code' in err &&
    typeof err.code === 'number' &&
    'details' in err &&
    typeof err.details === 'string'
  );
}

/** `/containerd.services.tasks.v1.Tasks/Create` → `Tasks.Create`, for messages. */
export function methodName(path: string): string {
  const [service = '', method = ''] = path.replace(/^\//, '').split('/');
  return `${service.split('.').pop() ?? service}.${method}`;
}

/** grpc-js reports a socket it could not reach as UNAVAILABLE with one of these in the details. */
const TRANSPORT_FAILURES = [
  /No connection established/i,
  /Connection dropped/i,
  /failed to connect/i,
  /\bconnect E[A-Z]+\b/,
  /\bE(CONNRESET|PIPE|NOENT|CONNREFUSED|ACCES)\b/,
];

function isTransportFailure(details: string): boolean {
  return TRANSPORT_FAILURES.some((pattern) => pattern.test(details));
}

function unreachable(socket: string, details: string): BudgieError {
  if (/\bEACCES\b/.test(details)) {
    return new PermissionDeniedError(
      `permission denied on containerd's socket ${socket}: run Budgie as root`,
    );
  }
  return new UnavailableError(
    `containerd is not reachable at ${socket}: ${reasonOf(details)}. Is containerd running?`,
  );
}

function reasonOf(details: string): string {
  if (/\bENOENT\b/.test(details)) return 'the socket does not exist';
  if (/\bECONNREFUSED\b/.test(details)) return 'connection refused';
  if (/\bECONNRESET\b|Connection dropped/i.test(details)) return 'the connection was reset';
  return details.replace(/^No connection established\.\s*Last error:\s*/i, '');
}
