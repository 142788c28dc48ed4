import { messageOf, NotFoundError } from '../errors';
import type { Logger } from '../log';
import type { Network } from '../network';
import type { ContainerInfo, ContainerRuntime } from '../runtime/containers';
import type { AppSupervisor } from './app-supervisor';
import { LABEL_APP, shortId } from './labels';
import type { Replica } from './replica';

/** Whatever holds replicas by ID: an AppSupervisor (a plain map in tests). */
export interface ReplicaHolder {
  readonly replicas: ReadonlyMap<string, Replica>;
}

export interface TrackedReplica<S extends ReplicaHolder> {
  supervisor: S;
  replica: Replica;
}

export interface RuntimeDifferences<S extends ReplicaHolder> {
  /** Replicas we think run but whose task stopped or is gone, with the best exit status known. */
  exited: (TrackedReplica<S> & { code: number; atMs: number })[];
  /** Budgie's containers that no supervisor tracks. */
  orphans: ContainerInfo[];
}

/** containerd records no status for a task that vanished (its shim died): report it as Docker does. */
const UNKNOWN_EXIT = 255;

/**
 * What containerd's list says that the events did not. `runningBefore` are the replicas that ran
 * before the list was taken (a replica that started meanwhile may be missing from it); `known`
 * every ID a supervisor tracks now, in any state.
 */
export function compareWithRuntime<S extends ReplicaHolder>(
  runningBefore: readonly TrackedReplica<S>[],
  known: ReadonlySet<string>,
  containers: readonly ContainerInfo[],
  nowMs: number,
): RuntimeDifferences<S> {
  const byId = new Map(containers.map((c) => [c.id, c]));
  const exited: RuntimeDifferences<S>['exited'] = [];
  for (const tracked of runningBefore) {
    const { supervisor, replica } = tracked;
    // Changed meanwhile (stopped, retired): the supervisor knows better than a stale list.
    if (supervisor.replicas.get(replica.id) !== replica || !replica.is('running')) continue;
    const info = byId.get(replica.id);
    // No task at all ('created') means containerd deleted a task whose shim had died.
    if (info?.state === 'running' || info?.state === 'paused') continue;
    exited.push({
      ...tracked,
      code: info?.exitCode ?? UNKNOWN_EXIT,
      atMs: info?.exitedAtMs ?? nowMs,
    });
  }
  const orphans = containers.filter(
    (info) => info.labels[LABEL_APP] !== undefined && !known.has(info.id),
  );
  return { exited, orphans };
}

export interface ResyncDeps {
  runtime: ContainerRuntime;
  network: Network;
  log: Logger;
  now(): number;
  /** The supervisors whose replicas are known: the apps, and those being stopped right now. */
  supervisors(): Iterable<AppSupervisor>;
  /** True once the orchestrator closed: a list that returns late changes nothing then. */
  closed(): boolean;
}

/** Grace of an orphan that still runs: it serves nobody, so there is no need to wait long. */
const ORPHAN_STOP_MS = 10_000;

/**
 * Catches what the events did not tell (containerd restarted, or the stream broke): replicas
 * that died meanwhile are replaced, containers that nobody tracks (a removal or a start cut
 * short while containerd was away) are removed. Running replicas are kept: never duplicated.
 */
export class RuntimeResync {
  /** Orphans being removed, so that overlapping runs do not remove one twice. */
  private readonly sweeping = new Set<string>();
  private running: Promise<boolean> | undefined;

  constructor(private readonly deps: ResyncDeps) {}

  /** Compares our replicas with containerd; false when containerd did not answer. */
  run(): Promise<boolean> {
    // Overlapping runs (the timer, a resubscription) share one list.
    this.running ??= this.once().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops (if running) and deletes a container nobody wants, and frees its network. */
  async removeOrphan(info: ContainerInfo): Promise<void> {
    const { runtime, network, log } = this.deps;
    try {
      if (info.state === 'running') await runtime.stop(info.id, ORPHAN_STOP_MS);
      await runtime.remove(info.id);
      await network.detach(info.id);
    } catch (err) {
      // Gone meanwhile (a removal under way when containerd listed it): nothing left to do.
      if (err instanceof NotFoundError) return;
      log.warn('could not remove orphaned replica', {
        replica: shortId(info.id),
        err: messageOf(err),
      });
    }
  }

  private async once(): Promise<boolean> {
    // Only replicas already running before the list: one that starts meanwhile is not in it yet.
    const before: TrackedReplica<AppSupervisor>[] = [];
    for (const supervisor of this.deps.supervisors()) {
      for (const replica of supervisor.replicas.values()) {
        if (replica.is('running')) before.push({ supervisor, replica });
      }
    }
    let containers: ContainerInfo[];
    try {
      containers = await this.deps.runtime.list();
    } catch {
      return false;
    }
    if (this.deps.closed()) return true;
    const known = new Set<string>();
    for (const sup of this.deps.supervisors()) {
      for (const id of sup.replicas.keys()) known.add(id);
    }
    const { exited, orphans } = compareWithRuntime(before, known, containers, this.deps.now());
    for (const { supervisor, replica, code, atMs } of exited) {
      supervisor.onExit(replica.id, code, atMs, 'sync');
    }
    for (const info of orphans) {
      if (this.sweeping.has(info.id)) continue;
      this.sweeping.add(info.id);
      this.deps.log.info('removing orphaned replica', {
        app: info.labels[LABEL_APP],
        replica: shortId(info.id),
      });
      await this.removeOrphan(info).finally(() => this.sweeping.delete(info.id));
    }
    return true;
  }
}
