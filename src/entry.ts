/**
 * The composition root: the only place where the CLI and the agent meet. The CLI gets the agent
 * as an injected function and never imports it. The `budgie` executable (src/main.ts) runs this
 * module, bundled or not.
 */
import type { AgentConfig } from './config/agent-config';
import type { SystemProbes } from './nest/probes';
import { runCli } from './cli';
import { version } from './version';

/**
 * Loads the agent only for `budgie agent`: its module tree (containerd, CNI, proxy, the generated
 * API) costs a few hundred milliseconds that every other command would pay at start.
 */
async function runAgent(config: AgentConfig, signal: AbortSignal): Promise<void> {
  const agent = await import('./agent');
  await agent.runAgent(config, signal);
  // Stopped cleanly: a socket that a vanished peer left half-closed must not keep the daemon
  // alive past its shutdown (unref'd: an exit that needs no push is not delayed).
  setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
}

/** How long a stopped agent may take to exit on its own before it is made to. */
const EXIT_GRACE_MS = 2000;

/** Loaded only for `budgie nest check`, for the same reason as the agent. */
async function systemProbes(): Promise<SystemProbes> {
  const [{ hostProbes }, { containerdProbe }] = await Promise.all([
    import('./nest/host-probes'),
    import('./containerd/probe'),
  ]);
  return hostProbes(containerdProbe);
}

function main(): void {
  const controller = new AbortController();
  const stop = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const out = (stream: NodeJS.WriteStream) => ({
    write: (text: string) => stream.write(text),
    isTTY: stream.isTTY,
    columns: stream.columns,
  });
  runCli(process.argv.slice(2), {
    runAgent,
    systemProbes,
    stdout: out(process.stdout),
    stderr: out(process.stderr),
    signal: controller.signal,
    version,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`budgie: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

main();
