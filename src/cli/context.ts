import type { AgentConfig } from '../config/agent-config';
import type { SystemProbes } from '../nest/probes';

/** What the CLI needs from its host process, injected so that commands can be tested in-process. */
export interface CliDeps {
  /** Runs the agent daemon until `signal` aborts. Provided by the composition root (src/entry.ts). */
  runAgent(config: AgentConfig, signal: AbortSignal): Promise<void>;
  /**
   * The machine as `budgie nest check` sees it. Loaded on demand by the composition root: the
   * real probes pull in the containerd client, which the CLI must not import.
   */
  systemProbes(): Promise<SystemProbes>;
  stdout: Output;
  stderr: Output;
  /** Aborted on SIGINT/SIGTERM; long-running commands stop when it fires. */
  signal: AbortSignal;
  version: string;
  /** The clock for ages in tables; Date.now unless a test fixes it. */
  now?: () => number;
}

export interface Output {
  write(text: string): void;
  /** True when a person is watching (progress bars, colours); false for pipes and files. */
  isTTY: boolean;
  columns?: number;
}

/** Options every command takes. */
export interface GlobalArgs {
  /** Unset means: the config's or the default socket. */
  socket?: string;
  'log-level'?: string;
  debug: boolean;
}

export type OutputFormat = 'table' | 'json';
