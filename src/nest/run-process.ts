import { spawn } from 'node:child_process';
import { FailedPreconditionError } from '../errors';
import type { Output } from './output';

export interface ProcessOptions {
  cwd: string;
  out: Output;
  signal: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs a command to completion, its output (stdout and stderr) streamed to `out`. Rejects with
 * one line naming `label` (what the person asked for, e.g. `npm ci`): not found, or its status.
 */
export function runProcess(
  label: string,
  command: string,
  args: readonly string[],
  options: ProcessOptions,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: options.signal,
    });
    const forward = (chunk: Buffer): void => {
      options.out.write(chunk.toString());
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    child.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ENOENT' ? `${command} not found` : e.message;
      reject(new FailedPreconditionError(`${label}: ${why}`));
    });
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else {
        const how = signal === null ? `exited with status ${String(code)}` : `killed by ${signal}`;
        reject(new FailedPreconditionError(`${label}: ${how} (its output is above)`));
      }
    });
  });
}
