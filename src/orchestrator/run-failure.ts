import { open } from 'node:fs/promises';
import { FailedPreconditionError } from '../errors';
import { shortId } from './labels';
import type { ReplicaFailure } from './app-supervisor';

/** How much of a failed replica's log `run` shows: enough to see why, short enough to read. */
const LOG_LINES = 10;
const LOG_TAIL_BYTES = 8192;

/**
 * The error `budgie run` ends with when a replica does not come up: the reason (start error,
 * exit code, last healthcheck error) and the replica's last log lines.
 */
export async function runFailure(
  app: string,
  failure: ReplicaFailure | undefined,
): Promise<FailedPreconditionError> {
  if (failure === undefined)
    return new FailedPreconditionError(`${app} was stopped while starting`);
  const lines = await lastLines(failure.logPath);
  const log =
    lines.length === 0
      ? ''
      : `\nlast log lines of ${shortId(failure.replicaId)}:\n${lines.map((l) => `  ${l}`).join('\n')}`;
  return new FailedPreconditionError(
    `${app}: replica ${shortId(failure.replicaId)} ${failure.reason}; the app stays deployed and is retried with backoff ('budgie stop ${app}' removes it)${log}`,
  );
}

async function lastLines(path: string): Promise<string[]> {
  let file;
  try {
    file = await open(path, 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await file.stat();
    const length = Math.min(size, LOG_TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await file.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-LOG_LINES);
  } finally {
    await file.close();
  }
}
