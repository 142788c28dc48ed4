import * as t from 'io-ts';
import { isRight } from 'fp-ts/Either';
import {
  type BudgieError,
  InvalidInputError,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
} from '../errors';

/**
 * Content from a registry did not match the digest (or size) it was addressed by. An
 * InvalidInputError: the registry served bad data, and fetching the same bytes again from the
 * same place will not help, so it is not retryable. (A connection that ends early is an
 * UnavailableError instead: that one is worth a retry or a resume.)
 */
export class DigestMismatchError extends InvalidInputError {
  /** `what` names the content ("blob sha256:… of 127.0.0.1:5000/app"); `detail` says how it differs. */
  constructor(
    readonly what: string,
    detail: string,
  ) {
    super(`${what}: ${detail}`);
  }
}

/** The registry's own error body (distribution spec, "Error Codes"). */
const ErrorBody = t.type({
  errors: t.array(t.intersection([t.type({ code: t.string }), t.partial({ message: t.string })])),
});

/** The first error code and message in a registry error body, if it has one. */
export function registryErrorCode(body: Buffer): { code: string; message?: string } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const decoded = ErrorBody.decode(json);
  return isRight(decoded) ? decoded.right.errors[0] : undefined;
}

const NOT_FOUND_CODES = new Set(['NAME_UNKNOWN', 'MANIFEST_UNKNOWN', 'BLOB_UNKNOWN']);
const DENIED_CODES = new Set(['UNAUTHORIZED', 'DENIED']);

/**
 * Turns a failed registry answer into one of Budgie's errors. `what` names the object for the
 * user ("image 127.0.0.1:5000/x:y", "blob sha256:… of docker.io/library/nginx").
 */
export function statusError(host: string, what: string, status: number, body: Buffer): BudgieError {
  const detail = registryErrorCode(body);
  const said = detail?.message === undefined ? '' : `: ${detail.message}`;
  if (status === 404 || (detail !== undefined && NOT_FOUND_CODES.has(detail.code))) {
    return new NotFoundError(`${what} not found`);
  }
  if (status === 401 || status === 403 || (detail !== undefined && DENIED_CODES.has(detail.code))) {
    return new PermissionDeniedError(`registry ${host} denied access to ${what}${said}`);
  }
  if (status === 429 || detail?.code === 'TOOMANYREQUESTS') {
    return new UnavailableError(`registry ${host} is rate limiting requests for ${what}${said}`);
  }
  if (status >= 500) {
    return new UnavailableError(`registry ${host} failed with HTTP ${status} for ${what}${said}`);
  }
  return new InvalidInputError(`registry ${host} refused ${what} with HTTP ${status}${said}`);
}
