import type { OciMount } from '../oci/spec-types';

/**
 * The container side of the runtime interface, in Budgie's terms (Nomad's task-driver idea):
 * the orchestrator creates, starts, stops and lists replicas through this, never through
 * containerd's messages. src/containerd implements it; tests use an in-memory fake.
 */
export type ContainerState = 'created' | 'running' | 'paused' | 'stopped' | 'unknown';

export interface ContainerCreateOptions {
  /** 64-hex container ID, unique per node and never reused. */
  id: string;
  /** Image name as stored (normalised). */
  image: string;
  /** Labels to record on the container (budgie.app, budgie.replica, budgie.spec-hash, ...). */
  labels: Record<string, string>;
  /** The container's own hostname (it gets its own UTS namespace); default: the 12-hex short ID. */
  hostname?: string;
  entrypoint?: string[];
  command?: string[];
  workdir?: string;
  environment: readonly { name: string; value: string }[];
  volumes: readonly { source: string; target: string; mode: 'rw' | 'ro' }[];
  netnsPath?: string;
  extraMounts?: readonly OciMount[];
  /** Absolute path of the file that receives the container's stdout and stderr (appended). */
  logPath: string;
}

export interface ContainerInfo {
  id: string;
  image: string;
  labels: Record<string, string>;
  state: ContainerState;
  pid?: number;
  /** Exit status of the last run, when stopped after running. */
  exitCode?: number;
  exitedAtMs?: number;
  createdAtMs: number;
  /** Where stdout and stderr go; absent for containers Budgie did not create. */
  logPath?: string;
}

export interface ExitStatus {
  code: number;
  atMs: number;
}

export type RuntimeEvent =
  | { type: 'exit'; id: string; code: number; atMs: number }
  | { type: 'start'; id: string; pid: number }
  | { type: 'oom'; id: string };

export interface ContainerRuntime {
  create(options: ContainerCreateOptions, signal?: AbortSignal): Promise<ContainerInfo>;
  /** Starts the task; resolves with its PID once it runs (the running PID if it already runs). */
  start(id: string, signal?: AbortSignal): Promise<number>;
  /**
   * SIGTERM, wait up to `graceMs`, then SIGKILL; resolves with the exit status (the recorded one
   * when it had already exited).
   */
  stop(id: string, graceMs: number, signal?: AbortSignal): Promise<ExitStatus>;
  /**
   * Deletes the task (if any), the container and its snapshot; parts already gone are fine. A
   * running container is refused: stop it first.
   */
  remove(id: string, signal?: AbortSignal): Promise<void>;
  get(id: string, signal?: AbortSignal): Promise<ContainerInfo>;
  /** Containers whose labels include every given label. */
  list(labels?: Record<string, string>, signal?: AbortSignal): Promise<ContainerInfo[]>;
  /**
   * Task events in this namespace; the iteration ends when `signal` aborts. Events before the
   * subscription are missed: list after subscribing to learn what happened meanwhile.
   */
  events(signal: AbortSignal): AsyncIterable<RuntimeEvent>;
}
