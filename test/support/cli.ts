import type { CliDeps } from '../../src/cli/context';
import { runCli } from '../../src/cli';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output; `runAgent` is a stub unless given. */
export async function cli(argv: string[], overrides: Partial<CliDeps> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    runAgent: () => Promise.reject(new Error('runAgent not expected in this test')),
    systemProbes: () => Promise.reject(new Error('systemProbes not expected in this test')),
    stdout: { write: (t) => (stdout += t), isTTY: false },
    stderr: { write: (t) => (stderr += t), isTTY: false },
    signal: new AbortController().signal,
    version: '9.9.9-test',
    ...overrides,
  });
  return { code, stdout, stderr };
}
