import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { containerdError, fromContainerdStatus, methodName } from '../../../src/containerd/errors';
import {
  ConflictError,
  FailedPreconditionError,
  InternalError,
  InvalidInputError,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
} from '../../../src/errors';

const SOCKET = '/run/containerd/containerd.sock';
const PATH = '/containerd.services.containers.v1.Containers/Get';

function statusError(code: status, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${details}`), {
    code,
    details,
    metadata: new Metadata(),
  });
}

describe('containerd error mapping', () => {
  it.each([
    [status.NOT_FOUND, NotFoundError],
    [status.ALREADY_EXISTS, ConflictError],
    [status.FAILED_PRECONDITION, FailedPreconditionError],
    [status.INVALID_ARGUMENT, InvalidInputError],
    [status.PERMISSION_DENIED, PermissionDeniedError],
    [status.UNKNOWN, InternalError],
    [status.INTERNAL, InternalError],
  ])('maps status %i to %p', (code, type) => {
    expect(fromContainerdStatus(statusError(code, 'x: boom'), SOCKET, PATH)).toBeInstanceOf(type);
  });

  it("keeps containerd's own message for the user", () => {
    const details = 'container "web-1" in namespace "budgie": not found';
    const err = fromContainerdStatus(statusError(status.NOT_FOUND, details), SOCKET, PATH);
    expect(err.message).toBe(details);
  });

  it('turns a missing socket into advice naming the path', () => {
    const details = `No connection established. Last error: connect ENOENT ${SOCKET} (2026-01-01)`;
    const err = fromContainerdStatus(statusError(status.UNAVAILABLE, details), SOCKET, PATH);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.retryable).toBe(true);
    expect(err.message).toBe(
      `containerd is not reachable at ${SOCKET}: the socket does not exist. Is containerd running?`,
    );
  });

  it('names a refused connection', () => {
    const details = `No connection established. Last error: connect ECONNREFUSED ${SOCKET}`;
    const err = fromContainerdStatus(statusError(status.UNAVAILABLE, details), SOCKET, PATH);
    expect(err.message).toContain(': connection refused. Is containerd running?');
  });

  it('tells a socket it may not open from one that is missing', () => {
    const details = `No connection established. Last error: connect EACCES ${SOCKET}`;
    const err = fromContainerdStatus(statusError(status.UNAVAILABLE, details), SOCKET, PATH);
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err.message).toContain(SOCKET);
  });

  it("keeps containerd's own UNAVAILABLE (a locked ingest) apart from an unreachable daemon", () => {
    const details = 'ref budgie-x locked for 2s: unavailable';
    const err = fromContainerdStatus(statusError(status.UNAVAILABLE, details), SOCKET, PATH);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toBe(`containerd Containers.Get: ${details}`);
  });

  it('reports a deadline as containerd not answering', () => {
    const err = fromContainerdStatus(
      statusError(status.DEADLINE_EXCEEDED, 'Deadline exceeded'),
      SOCKET,
      PATH,
    );
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toBe(`containerd at ${SOCKET} did not answer Containers.Get in time`);
  });

  it('keeps the cause of an internal error for the log', () => {
    const cause = statusError(status.UNKNOWN, 'weird');
    const err = fromContainerdStatus(cause, SOCKET, PATH);
    expect(err.message).toBe('containerd Containers.Get failed: weird');
    expect(err.cause).toBe(cause);
  });

  it('passes our own errors through and wraps non-errors', () => {
    const ours = new NotFoundError('x');
    expect(containerdError(ours, SOCKET, PATH)).toBe(ours);
    expect(containerdError('odd', SOCKET, PATH)).toBeInstanceOf(InternalError);
  });

  it('shortens method paths', () => {
    expect(methodName('/containerd.services.tasks.v1.Tasks/Create')).toBe('Tasks.Create');
  });
});
