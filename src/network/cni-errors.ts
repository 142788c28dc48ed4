import * as t from 'io-ts';
import { isRight } from 'fp-ts/Either';
import {
  type BudgieError,
  FailedPreconditionError,
  InternalError,
  InvalidInputError,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
} from '../errors';
import { parseJson } from './json';

/** The error a plugin prints on stdout when it fails (CNI spec, "Error"). */
const CniErrorBody = t.intersection([
  t.type({ code: t.number }),
  t.partial({ msg: t.string, details: t.string }),
]);
export type CniErrorBody = t.TypeOf<typeof CniErrorBody>;

export function decodeCniError(stdout: string): CniErrorBody | undefined {
  const decoded = CniErrorBody.decode(parseJson(stdout));
  return isRight(decoded) ? decoded.right : undefined;
}

/** What a plugin was asked to do, to name it in messages. */
export interface CallContext {
  plugin: string;
  command: string;
  /** Absent for VERSION, which is about no replica. */
  replicaId?: string | undefined;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function describeCall(call: CallContext): string {
  const replica = call.replicaId === undefined ? '' : ` for replica ${call.replicaId}`;
  return `CNI plugin ${call.plugin} (${call.command})${replica}`;
}

const DENIED = /operation not permitted|permission denied/i;
const EXHAUSTED = /no IP addresses available|no more (free )?(ip|address)/i;

/** Maps a plugin's error (spec codes 1–11, plugin codes 100+, 999) to a Budgie error. */
export function cniError(call: CallContext, body: CniErrorBody): BudgieError {
  const said = oneLine([body.msg ?? 'no message', body.details ?? ''].join(' '));
  const message = `${describeCall(call)} failed: ${said} [CNI error ${body.code}]`;
  switch (body.code) {
    case 1:
      return new FailedPreconditionError(
        `${message}; the installed CNI plugins do not support this version`,
      );
    case 2:
    case 7:
      return new InvalidInputError(`${message}; check the network bridge and subnet settings`);
    case 3:
      return new NotFoundError(message);
    case 4:
    case 6:
      return new InternalError(message);
    case 5:
    case 11:
      return new UnavailableError(message);
  }
  if (DENIED.test(said)) return new PermissionDeniedError(message);
  if (EXHAUSTED.test(said)) {
    return new FailedPreconditionError(`${message}; the subnet is full: configure a larger one`);
  }
  return new FailedPreconditionError(message);
}

/** A plugin that failed without printing a CNI error (a crash, a kill, garbage on stdout). */
export function crashError(
  call: CallContext,
  exitCode: number | null,
  stderr: string,
): BudgieError {
  const how = exitCode === null ? 'was killed' : `exited with status ${exitCode}`;
  const lastLine = oneLine(stderr.trim().split('\n').pop() ?? '');
  return new InternalError(`${describeCall(call)} ${how}${lastLine === '' ? '' : `: ${lastLine}`}`);
}

export function missingPluginError(plugin: string, dirs: readonly string[]): BudgieError {
  return new FailedPreconditionError(
    `CNI plugin ${plugin} not found in ${dirs.join(', ')}; install the plugins with: apt-get install containernetworking-plugins`,
  );
}
