import {
  ConflictError,
  FailedPreconditionError,
  NotFoundError,
  UnavailableError,
} from '../../../src/errors';
import type {
  ContainerCreateOptions,
  ContainerInfo,
  ContainerRuntime,
  ExitStatus,
  RuntimeEvent,
} from '../../../src/runtime/containers';

export type RuntimeMethod = 'create' | 'start' | 'stop' | 'remove' | 'get' | 'list';

/** What a container does on SIGTERM: exit with `code`, or ignore it (stop then kills: 137). */
export type TermBehaviour = { exits: true; code: number } | { exits: false };

export interface FakeContainerRuntimeOptions {
  /** Images that create accepts; absent: every image. */
  images?: readonly string[];
  /** Milliseconds since the epoch for created and exit times; tests pass their own clock. */
  now?: () => number;
  /** How each container answers SIGTERM; default: exits with 143, as a shell would. */
  onTerm?: (options: ContainerCreateOptions) => TermBehaviour;
}

interface Failure {
  method: RuntimeMethod;
  id: string | undefined;
  error: Error;
}

interface FakeContainer {
  options: ContainerCreateOptions;
  info: ContainerInfo;
}

/**
 * An in-memory ContainerRuntime for orchestrator tests (Nomad's mock driver idea): the same
 * states, errors and messages as the containerd one, with failures, holds and exits that the test
 * injects. It never sleeps: a container that ignores SIGTERM is killed at once and `calls` records
 * the grace period asked for.
 */
export class FakeContainerRuntime implements ContainerRuntime {
  /** Every call in order, with the container ID and (for stop) the grace period. */
  readonly calls: { method: RuntimeMethod; id?: string; graceMs?: number }[] = [];
  private readonly containers = new Map<string, FakeContainer>();
  private readonly failures: Failure[] = [];
  private readonly holds = new Map<RuntimeMethod, Promise<void>>();
  private readonly subscribers = new Set<(event: RuntimeEvent | Error) => void>();
  private unavailable: UnavailableError | undefined;
  private nextPid = 1000;
  private readonly now: () => number;

  constructor(private readonly options: FakeContainerRuntimeOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** The next call of `method` (for `id`, if given) rejects with `error`. */
  failNext(method: RuntimeMethod, error: Error, id?: string): void {
    this.failures.push({ method, id, error });
  }

  /** Calls of `method` wait until the returned function is called: a delay the test controls. */
  hold(method: RuntimeMethod): () => void {
    let release = (): void => undefined;
    this.holds.set(
      method,
      new Promise<void>((resolve) => {
        release = () => {
          this.holds.delete(method);
          resolve();
        };
      }),
    );
    return release;
  }

  /**
   * containerd goes away (false) or comes back (true), as in a containerd restart: meanwhile every
   * call and subscription fails with UnavailableError, open event streams break, and containers
   * keep their state (their exits are not reported: nobody listens).
   */
  setAvailable(available: boolean): void {
    if (available) {
      this.unavailable = undefined;
      return;
    }
    this.unavailable = new UnavailableError('containerd is not reachable (fake)');
    for (const subscriber of this.subscribers) subscriber(this.unavailable);
  }

  /** The options a container was created with, to check what the caller asked for. */
  createdWith(id: string): ContainerCreateOptions {
    return this.find(id).options;
  }

  /** The running container's process exits by itself (a crash, or its work is done). */
  exit(id: string, code: number): void {
    const container = this.find(id);
    if (container.info.state !== 'running') {
      throw new Error(`fake: container ${id} is ${container.info.state}, not running`);
    }
    this.stopped(container, code);
  }

  /** The kernel's OOM killer ends the container: an oom event, then exit 137. */
  oom(id: string): void {
    this.emit({ type: 'oom', id });
    this.exit(id, 137);
  }

  async create(options: ContainerCreateOptions): Promise<ContainerInfo> {
    await this.enter('create', options.id);
    const images = this.options.images;
    if (images !== undefined && !images.includes(options.image)) {
      throw new NotFoundError(
        `image ${options.image} is not on this node: pull or import it first`,
      );
    }
    if (this.containers.has(options.id)) {
      throw new ConflictError(`container ${short(options.id)} already exists on this node`);
    }
    const info: ContainerInfo = {
      id: options.id,
      image: options.image,
      labels: { ...options.labels },
      state: 'created',
      createdAtMs: this.now(),
      logPath: options.logPath,
    };
    this.containers.set(options.id, { options, info });
    return copy(info);
  }

  async start(id: string): Promise<number> {
    await this.enter('start', id);
    const { info } = this.find(id);
    if (info.state === 'running' && info.pid !== undefined) return info.pid;
    const pid = this.nextPid++;
    info.state = 'running';
    info.pid = pid;
    delete info.exitCode;
    delete info.exitedAtMs;
    this.emit({ type: 'start', id, pid });
    return pid;
  }

  async stop(id: string, graceMs: number): Promise<ExitStatus> {
    await this.enter('stop', id, graceMs);
    const container = this.find(id);
    const { info } = container;
    if (info.state === 'stopped' && info.exitCode !== undefined) {
      return { code: info.exitCode, atMs: info.exitedAtMs ?? 0 };
    }
    if (info.state !== 'running') {
      throw new FailedPreconditionError(`container ${short(id)} is not running`);
    }
    const term = this.options.onTerm?.(container.options) ?? { exits: true, code: 143 };
    return this.stopped(container, term.exits ? term.code : 137);
  }

  async remove(id: string): Promise<void> {
    await this.enter('remove', id);
    const container = this.containers.get(id);
    if (container?.info.state === 'running') {
      throw new FailedPreconditionError(
        `container ${short(id)} is running: stop it before removing it`,
      );
    }
    this.containers.delete(id);
  }

  async get(id: string): Promise<ContainerInfo> {
    await this.enter('get', id);
    return copy(this.find(id).info);
  }

  async list(labels: Record<string, string> = {}): Promise<ContainerInfo[]> {
    await this.enter('list');
    const wanted = Object.entries(labels);
    return [...this.containers.values()]
      .filter(({ info }) => wanted.every(([key, value]) => info.labels[key] === value))
      .map(({ info }) => copy(info));
  }

  async *events(signal: AbortSignal): AsyncIterable<RuntimeEvent> {
    if (this.unavailable !== undefined) throw this.unavailable;
    const queue: (RuntimeEvent | Error)[] = [];
    let wake: (() => void) | undefined;
    const subscriber = (event: RuntimeEvent | Error): void => {
      queue.push(event);
      wake?.();
    };
    const onAbort = (): void => wake?.();
    this.subscribers.add(subscriber);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        const next = queue.shift();
        if (next instanceof Error) throw next;
        if (next !== undefined) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      this.subscribers.delete(subscriber);
      signal.removeEventListener('abort', onAbort);
    }
  }

  private async enter(method: RuntimeMethod, id?: string, graceMs?: number): Promise<void> {
    this.calls.push({
      method,
      ...(id === undefined ? {} : { id }),
      ...(graceMs === undefined ? {} : { graceMs }),
    });
    await this.holds.get(method);
    if (this.unavailable !== undefined) throw this.unavailable;
    const at = this.failures.findIndex(
      (f) => f.method === method && (f.id === undefined || f.id === id),
    );
    if (at >= 0) {
      const [failure] = this.failures.splice(at, 1);
      if (failure !== undefined) throw failure.error;
    }
  }

  private find(id: string): FakeContainer {
    const container = this.containers.get(id);
    if (container === undefined) {
      throw new NotFoundError(`container ${short(id)} not found on this node`);
    }
    return container;
  }

  private stopped(container: FakeContainer, code: number): ExitStatus {
    const atMs = this.now();
    const { info } = container;
    info.state = 'stopped';
    info.exitCode = code;
    info.exitedAtMs = atMs;
    delete info.pid;
    this.emit({ type: 'exit', id: info.id, code, atMs });
    return { code, atMs };
  }

  private emit(event: RuntimeEvent): void {
    if (this.unavailable !== undefined) return;
    for (const subscriber of this.subscribers) subscriber(event);
  }
}

function short(id: string): string {
  return id.slice(0, 12);
}

function copy(info: ContainerInfo): ContainerInfo {
  return { ...info, labels: { ...info.labels } };
}
