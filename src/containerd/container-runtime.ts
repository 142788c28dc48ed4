import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import {
  ConflictError,
  FailedPreconditionError,
  InternalError,
  NotFoundError,
  messageOf,
} from '../errors';
import type { Logger } from '../log';
import type {
  ContainerCreateOptions,
  ContainerInfo,
  ContainerRuntime,
  ExitStatus,
  RuntimeEvent,
} from '../runtime/containers';
import { TaskStatus, type Container, type Process } from './api';
import type { ContainerdClient } from './client';
import type { CallOpts } from './connection';
import { runtimeEvent, taskEventFilters } from './container-events';
import {
  containerInfo,
  labelFilters,
  LOG_PATH_LABEL,
  startFailureReason,
} from './container-records';
import { checkCreateOptions, containerSpec } from './container-spec';
import { resolveStoredImage, type StoredImage } from './image-records';
import { jsonAny, OCI_SPEC_TYPE_URL, timestampMs } from './wellknown';

export interface ContainerdRuntimeOptions {
  /** Snapshotter of new containers' root file systems; images must be unpacked for it. */
  snapshotter: string;
  log: Logger;
}

const RUNC = 'io.containerd.runc.v2';
const SIGTERM = 15;
const SIGKILL = 9;
/** Bounds the creation lease should the agent die mid-create; creating takes seconds. */
const CREATE_LEASE_MS = 10 * 60_000;
const DELETABLE: ReadonlySet<TaskStatus> = new Set([TaskStatus.STOPPED, TaskStatus.CREATED]);

/**
 * Budgie's containers on containerd: one container record (spec, labels, snapshot key) per
 * replica, a runc task while it runs. containerd is the only record of what exists, so every
 * answer comes from it and an agent restart loses nothing.
 */
export class ContainerdRuntime implements ContainerRuntime {
  private readonly snapshotter: string;
  private readonly log: Logger;

  constructor(
    private readonly client: ContainerdClient,
    options: ContainerdRuntimeOptions,
  ) {
    this.snapshotter = options.snapshotter;
    this.log = options.log;
  }

  async create(options: ContainerCreateOptions, signal?: AbortSignal): Promise<ContainerInfo> {
    checkCreateOptions(options);
    const opts = callOpts(signal);
    const image = await this.loadImage(options.image, opts);
    const spec = containerSpec(this.client.namespace, image.config, options);
    // Until the container record refers to it, only a lease keeps the snapshot from GC.
    const lease = await this.client.leases.create(
      `budgie-create-${options.id.slice(0, 12)}-${randomBytes(4).toString('hex')}`,
      { 'containerd.io/gc.expire': new Date(Date.now() + CREATE_LEASE_MS).toISOString() },
      opts,
    );
    try {
      await this.prepareSnapshot(options, image, { ...opts, lease: lease.id });
      try {
        const container = await this.client.containers.create(
          {
            id: options.id,
            image: image.name,
            labels: { ...options.labels, [LOG_PATH_LABEL]: options.logPath },
            runtime: { name: RUNC },
            spec: jsonAny(OCI_SPEC_TYPE_URL, spec),
            snapshotter: this.snapshotter,
            snapshotKey: options.id,
          },
          opts,
        );
        return containerInfo(container, undefined);
      } catch (err) {
        // The snapshot is ours (prepare succeeded), so it goes whatever the container's fate.
        await this.client.snapshots.remove(this.snapshotter, options.id).catch(ignore);
        throw err instanceof ConflictError ? alreadyExists(options.id) : err;
      }
    } finally {
      await this.client.leases.delete(lease.id).catch((err: unknown) => {
        // Harmless: the lease expires by itself.
        this.log.debug('could not delete creation lease', { lease: lease.id, err: messageOf(err) });
      });
    }
  }

  async start(id: string, signal?: AbortSignal): Promise<number> {
    const opts = callOpts(signal);
    const container = await this.container(id, opts);
    const task = await this.task(id, opts);
    if (task?.status === TaskStatus.RUNNING) return task.pid;
    if (task?.status === TaskStatus.CREATED) return this.startTask(id, opts);
    if (task?.status === TaskStatus.PAUSED || task?.status === TaskStatus.PAUSING) {
      // Budgie never pauses; someone did by hand, and resuming is theirs to decide.
      throw new FailedPreconditionError(`container ${short(id)} is paused`);
    }
    // A stopped task is the previous run: a new run needs a new task.
    if (task !== undefined) await this.client.tasks.delete(id, opts).catch(ignoreNotFound);
    const logPath = container.labels[LOG_PATH_LABEL];
    if (logPath === undefined) {
      throw new FailedPreconditionError(`container ${short(id)} was not created by Budgie`);
    }
    await mkdir(dirname(logPath), { recursive: true });
    const rootfs = await this.client.snapshots.mounts(
      container.snapshotter,
      container.snapshotKey,
      opts,
    );
    // The shim appends both streams to the file itself: no copying through the agent.
    const log = pathToFileURL(logPath).href;
    await this.client.tasks
      .create({ containerId: id, rootfs, stdout: log, stderr: log }, opts)
      .catch((err: unknown) => {
        throw couldNotStart(id, err);
      });
    return this.startTask(id, opts);
  }

  async stop(id: string, graceMs: number, signal?: AbortSignal): Promise<ExitStatus> {
    const opts = callOpts(signal);
    const task = await this.task(id, opts);
    if (task === undefined) {
      await this.container(id, opts);
      throw new FailedPreconditionError(`container ${short(id)} is not running`);
    }
    if (task.status === TaskStatus.STOPPED) {
      return { code: task.exitStatus, atMs: timestampMs(task.exitedAt) };
    }
    // Wait first: an exit between the kill and a later wait would otherwise be missed.
    const waiting = new AbortController();
    const onAbort = (): void => {
      waiting.abort(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const exited = this.client.tasks.wait(id, '', { signal: waiting.signal });
    exited.catch(ignore); // handled below; this only prevents an unhandled rejection meanwhile
    try {
      await this.kill(id, SIGTERM, opts);
      if (!(await exitsWithin(exited, graceMs, waiting.signal))) {
        this.log.info('container ignored SIGTERM: killing it', { id: short(id), graceMs });
        await this.kill(id, SIGKILL, opts);
      }
      const status = await exited;
      return { code: status.exitStatus, atMs: timestampMs(status.exitedAt) };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      waiting.abort();
    }
  }

  async remove(id: string, signal?: AbortSignal): Promise<void> {
    const opts = callOpts(signal);
    const task = await this.task(id, opts);
    // A created task never ran (its start failed midway): deleting it is safe.
    if (task !== undefined && !DELETABLE.has(task.status)) {
      throw new FailedPreconditionError(
        `container ${short(id)} is running: stop it before removing it`,
      );
    }
    if (task !== undefined) await this.client.tasks.delete(id, opts).catch(ignoreNotFound);
    const container = await this.client.containers.get(id, opts).catch(ignoreNotFound);
    if (container !== undefined)
      await this.client.containers.delete(id, opts).catch(ignoreNotFound);
    await this.client.snapshots
      .remove(container?.snapshotter ?? this.snapshotter, container?.snapshotKey ?? id, opts)
      .catch(ignoreNotFound);
  }

  async get(id: string, signal?: AbortSignal): Promise<ContainerInfo> {
    const opts = callOpts(signal);
    const container = await this.container(id, opts);
    return containerInfo(container, await this.task(id, opts));
  }

  async list(labels?: Record<string, string>, signal?: AbortSignal): Promise<ContainerInfo[]> {
    const opts = callOpts(signal);
    const [containers, tasks] = await Promise.all([
      this.client.containers.list(labelFilters(labels), opts),
      this.client.tasks.list('', opts),
    ]);
    const byId = new Map(tasks.map((task) => [task.id, task]));
    return containers.map((container) => containerInfo(container, byId.get(container.id)));
  }

  async *events(signal: AbortSignal): AsyncIterable<RuntimeEvent> {
    const filters = taskEventFilters(this.client.namespace);
    try {
      for await (const envelope of this.client.events.subscribe(filters, { signal })) {
        const event = runtimeEvent(envelope);
        if (event !== undefined) yield event;
      }
    } catch (err) {
      // The caller ended the subscription: that is the normal end, not a failure.
      if (signal.aborted) return;
      throw err;
    }
  }

  private async loadImage(name: string, opts: CallOpts): Promise<StoredImage> {
    const record = await this.client.images.get(name, opts).catch((err: unknown) => {
      throw err instanceof NotFoundError
        ? new NotFoundError(`image ${name} is not on this node: pull or import it first`)
        : err;
    });
    return resolveStoredImage(this.client, record, undefined, opts);
  }

  private async prepareSnapshot(
    options: ContainerCreateOptions,
    image: StoredImage,
    opts: CallOpts,
  ): Promise<void> {
    try {
      await this.client.snapshots.prepare(
        {
          snapshotter: this.snapshotter,
          key: options.id,
          parent: image.chainId,
          labels: options.labels,
        },
        opts,
      );
    } catch (err) {
      if (err instanceof ConflictError) throw alreadyExists(options.id);
      if (err instanceof NotFoundError) {
        throw new NotFoundError(
          `image ${image.name} is not unpacked for the ${this.snapshotter} snapshotter: pull or import it again`,
        );
      }
      throw err;
    }
  }

  private async startTask(id: string, opts: CallOpts): Promise<number> {
    try {
      return await this.client.tasks.start(id, '', opts);
    } catch (err) {
      // A task that did not start holds a shim and mounts: release them, report the reason.
      await this.client.tasks.delete(id).catch(ignore);
      throw couldNotStart(id, err);
    }
  }

  private async container(id: string, opts: CallOpts): Promise<Container> {
    return this.client.containers.get(id, opts).catch((err: unknown) => {
      throw err instanceof NotFoundError
        ? new NotFoundError(`container ${short(id)} not found on this node`)
        : err;
    });
  }

  /** The container's task; undefined when it has none (never started, or deleted). */
  private async task(id: string, opts: CallOpts): Promise<Process | undefined> {
    return this.client.tasks.get(id, '', opts).catch(ignoreNotFound);
  }

  private async kill(id: string, signal: number, opts: CallOpts): Promise<void> {
    // NotFound: the process finished meanwhile; the pending wait reports how.
    await this.client.tasks.kill(id, signal, opts).catch(ignoreNotFound);
  }
}

function callOpts(signal: AbortSignal | undefined): CallOpts {
  return signal === undefined ? {} : { signal };
}

/** True when `exited` settles within `ms`; a rejection is left for the caller's await. */
async function exitsWithin(
  exited: Promise<unknown>,
  ms: number,
  signal: AbortSignal,
): Promise<boolean> {
  const timer = new AbortController();
  const stopTimer = (): void => {
    timer.abort();
  };
  signal.addEventListener('abort', stopTimer, { once: true });
  try {
    return await Promise.race([
      exited.then(
        () => true,
        () => true,
      ),
      sleep(ms, false, { signal: timer.signal }).catch(() => true),
    ]);
  } finally {
    signal.removeEventListener('abort', stopTimer);
    timer.abort();
  }
}

function short(id: string): string {
  return id.slice(0, 12);
}

function alreadyExists(id: string): ConflictError {
  return new ConflictError(`container ${short(id)} already exists on this node`);
}

/**
 * runc's failures (no such executable, bad mount) arrive as internal errors wrapped in layers of
 * prefixes; the rest (NotFound, Unavailable, an abort) already read well.
 */
function couldNotStart(id: string, err: unknown): unknown {
  if (!(err instanceof InternalError)) return err;
  return new FailedPreconditionError(
    `container ${short(id)} could not start: ${startFailureReason(err.message)}`,
    { cause: err },
  );
}

function ignore(): undefined {
  return undefined;
}

function ignoreNotFound(err: unknown): undefined {
  if (err instanceof NotFoundError) return undefined;
  throw err;
}
