import {
  type BudgieError,
  ConflictError,
  InternalError,
  InvalidInputError,
  PermissionDeniedError,
  messageOf,
} from '../errors';
import type { ProxyProtocol } from './types';

/** Translates a bind failure into the error a user can act on. */
export function listenError(
  err: unknown,
  protocol: ProxyProtocol,
  host: string,
  port: number,
): BudgieError {
  const code = errnoCode(err);
  const what = `port ${port}/${protocol}`;
  switch (code) {
    case 'EADDRINUSE':
      return new ConflictError(`${what} is in use on this host`, { cause: err });
    case 'EACCES':
      return new PermissionDeniedError(
        `${what} needs privileges to bind (root or CAP_NET_BIND_SERVICE below 1024)`,
        { cause: err },
      );
    case 'EADDRNOTAVAIL':
      return new InvalidInputError(
        `bind address ${host} for ${what} is not an address of this host`,
        {
          cause: err,
        },
      );
    default:
      return new InternalError(`could not listen on ${host} ${what}: ${messageOf(err)}`, {
        cause: err,
      });
  }
}

/** Structural, not `instanceof Error`: Node's errors may come from another realm (jest's vm). */
export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}
