import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import type { App } from '../bundle/types';
import { messageOf, NotFoundError } from '../errors';
import type { Logger } from '../log';
import type { Network } from '../network';
import type { ProxyTable } from '../proxy';
import type { ContainerRuntime } from '../runtime/containers';
import { newReplicaId, shortId, specHash } from './labels';
import { publishPorts, unroutePorts } from './app-ports';
import { Replica } from './replica';
import { replicaContainer } from './replica-spec';
import { RestartBackoff } from './restart-backoff';
import type { AppRecord, HealthProbeFactory, ReplicaView } from './types';

export interface SupervisorDeps {
  nodeName: string;
  logDir: string;
  runtime: ContainerRuntime;
  network: Network;
  proxies: ProxyTable;
  probes: HealthProbeFactory;
  /** Address the published ports listen on; default all. */
  publishAddress?: string;
  log: Logger;
  now(): number;
}

/** Why a replica that was asked for is not (yet) serving: what `run` reports when it fails. */
export interface ReplicaFailure {
  replicaId: string;
  reason: string;
  logPath: string;
}

/**
 * Keeps one app's replicas as desired: starts missing ones, replaces those that exit or turn
 * unhealthy (per the restart policy, with exponential backoff), rolls out a changed app one
 * replica at a time, and keeps the app's published ports pointed at the ready replicas.
 *
 * Decisions are taken synchronously in `reconcile`, on every change; the slow work (starting,
 * stopping) runs in the background and reports back through `changed`, so there are no locks:
 * a replica enters the table before its first await and leaves it only when it is gone.
 */
export class AppSupervisor {
  readonly replicas = new Map<string, Replica>();
  private desired: AppRecord;
  private imageName: string;
  private hash: string;
  private readonly backoff = new RestartBackoff();
  private retryTimer: NodeJS.Timeout | undefined;
  /** Starts in progress, by replica ID: a retirement waits for its replica's start to end. */
  private readonly starting = new Map<string, Promise<void>>();
  private closed = false;
  private readonly listeners = new Set<() => void>();
  /** The latest failure of a replica, for `run` to report. */
  lastFailure: ReplicaFailure | undefined;

  constructor(
    private readonly deps: SupervisorDeps,
    record: AppRecord,
    imageName: string,
  ) {
    this.desired = record;
    this.imageName = imageName;
    this.hash = specHash(record.app, imageName);
  }

  get app(): App {
    return this.desired.app;
  }

  get scale(): number {
    return this.desired.scale;
  }

  /** The desired state this supervisor keeps. */
  get record(): AppRecord {
    return this.desired;
  }

  /** True when `record` would run exactly the replicas this supervisor runs now. */
  isCurrent(record: AppRecord, imageName: string): boolean {
    return (
      specHash(record.app, imageName) === this.hash &&
      record.scale === this.desired.scale &&
      (record.standIns ?? 0) === (this.desired.standIns ?? 0)
    );
  }

  update(record: AppRecord, imageName: string): void {
    this.desired = record;
    this.imageName = imageName;
    this.hash = specHash(record.app, imageName);
    this.lastFailure = undefined;
    this.backoff.reset();
    this.reconcile();
  }

  /** A new scale or stand-in count for the same app and image. */
  resize(record: AppRecord): void {
    this.update(record, this.imageName);
  }

  /** Takes over a container found in containerd at agent start. */
  adopt(replica: Replica): void {
    this.replicas.set(replica.id, replica);
    if (replica.state === 'running') this.startProbe(replica);
  }

  views(all: boolean): ReplicaView[] {
    return [...this.replicas.values()]
      .filter((r) => all || r.state !== 'exited')
      .map((r) => r.view(this.app, this.deps.nodeName));
  }

  /** Current-spec replicas that serve: running, and healthy when there is a healthcheck. */
  readyCount(): number {
    let n = 0;
    for (const r of this.replicas.values()) if (r.hash === this.hash && r.isReady()) n++;
    return n;
  }

  /** Calls `listener` after every change until it returns true (or the supervisor closes). */
  watch(listener: () => boolean): () => void {
    const wrapped = (): void => {
      if (listener()) this.listeners.delete(wrapped);
    };
    this.listeners.add(wrapped);
    return () => this.listeners.delete(wrapped);
  }

  /** A replica's task ended; `via` says who noticed (containerd's event, or a later resync). */
  onExit(id: string, code: number, atMs: number, via: 'event' | 'sync' = 'event'): void {
    const replica = this.replicas.get(id);
    if (replica === undefined || replica.state === 'exited') return;
    const wasStopping = replica.state === 'stopping';
    replica.exited(code, atMs);
    replica.probe?.stop();
    if (!wasStopping) {
      const fields = { app: this.app.name, replica: shortId(id), code, via };
      this.deps.log.warn('replica exited', fields);
      this.fail(replica, `exited with code ${code}`);
    }
    this.cutUdpFlows(replica);
    this.refresh();
  }

  /**
   * Once a replica has exited, its UDP flows cannot finish: they are cut now rather than at the
   * end of the drain, so the clients' next datagrams start new flows to live replicas.
   */
  private cutUdpFlows(replica: Replica): void {
    for (const port of this.app.ports) {
      if (port.protocol !== 'udp') continue;
      void this.deps.proxies.get('udp', port.hostPort)?.drain(replica.id, 0);
    }
  }

  /** Stops one replica for good (the caller lowers the scale first if it should not return). */
  async stopReplica(id: string): Promise<void> {
    const replica = this.replicas.get(id);
    if (replica === undefined) throw new NotFoundError(`no replica ${shortId(id)}`);
    await this.retire(replica);
  }

  /**
   * Stops supervising without touching the replicas (the agent is shutting down: containerd keeps
   * them running and the next start re-adopts them). Pending retries and probes end here, so
   * nothing keeps the process alive.
   */
  detach(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (const replica of this.replicas.values()) replica.probe?.stop();
  }

  /** Stops every replica and forgets the app's ports; the supervisor is done afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    // New connections stop before the replicas do: otherwise whoever mirrors the proxy table
    // (members balancing over this node's direct endpoints) would still send traffic to them.
    await unroutePorts(this.deps, this.app);
    await Promise.all([...this.replicas.values()].map((r) => this.retire(r)));
    for (const listener of [...this.listeners]) listener();
    this.listeners.clear();
  }

  /**
   * Removes exited replicas for good (restart: never / on-failure leftovers; only `ids` when
   * given): container, snapshot, network, log. Unlike a retirement, a failure (containerd away)
   * is reported and leaves the replica listed, so that `rm` can be tried again.
   */
  async removeExited(ids?: readonly string[]): Promise<string[]> {
    const chosen = [...this.replicas.values()].filter(
      (r) => r.state === 'exited' && (ids === undefined || ids.includes(r.id)),
    );
    // One being retired already (restart policy) is awaited, not removed twice.
    const results = await Promise.allSettled(chosen.map((r) => r.retiring ?? this.remove(r)));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return chosen.map((r) => r.id);
  }

  private async remove(replica: Replica): Promise<void> {
    const { runtime, network } = this.deps;
    const removal = (async () => {
      await runtime.remove(replica.id).catch(ignoreMissing);
      await network.detach(replica.id);
      await rm(replica.logPath, { force: true });
    })();
    replica.retiring = removal;
    try {
      await removal;
      this.replicas.delete(replica.id);
    } catch (err) {
      replica.retiring = undefined;
      throw err;
    } finally {
      this.refresh();
    }
  }

  /** Takes the decisions; see the class comment. */
  reconcile(): void {
    if (this.closed) return;
    const now = this.deps.now();
    const policy = this.app.restart;
    for (const r of this.replicas.values()) {
      if (r.state === 'exited' && this.restartable(r)) void this.retire(r);
      else if (r.state === 'running' && r.health === 'unhealthy' && policy !== 'never') {
        void this.retire(r);
      }
      this.backoff.served(r.readySinceMs, now);
    }
    // A replica that exited for good under its policy (`never`, or `on-failure` after a clean
    // exit) still holds its place, as in Docker: a finished job is not started again.
    const live = [...this.replicas.values()].filter(
      (r) =>
        r.state === 'created' ||
        (r.state === 'running' && r.health !== 'unhealthy') ||
        (r.state === 'exited' && !this.restartable(r)),
    );
    const current = live.filter((r) => r.hash === this.hash);
    const outdated = live.filter((r) => r.hash !== this.hash);
    const pending = current.filter((r) => !r.isReady());
    const total = live.length;
    // Stand-ins are replicas like the others; only the cluster's keeper decides their number.
    const scale = this.desired.scale + (this.desired.standIns ?? 0);
    if (total < scale) {
      this.startSome(scale - total);
    } else if (outdated.length > 0) {
      // Rolling update: one new replica at a time, and an old one goes once it serves.
      if (pending.length > 0) return;
      if (total === scale) this.startSome(1);
      else {
        const oldest = outdated[0];
        if (oldest !== undefined) void this.retire(oldest);
      }
    } else if (total > scale) {
      const newestFirst = [...current].sort((a, b) => b.createdMs - a.createdMs);
      for (const r of newestFirst.slice(0, total - scale)) void this.retire(r);
    }
  }

  /** Whether the restart policy replaces this exited replica. */
  private restartable(r: Replica): boolean {
    const policy = this.app.restart;
    return (
      policy === 'always' ||
      (policy === 'on-failure' && r.exitCode !== undefined && r.exitCode !== 0)
    );
  }

  private startSome(count: number): void {
    const waitMs = this.backoff.remainingMs(this.deps.now());
    if (waitMs > 0) {
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = undefined;
        this.reconcile();
      }, waitMs);
      return;
    }
    for (let i = 0; i < count; i++) void this.startReplica();
  }

  private async startReplica(): Promise<void> {
    const { runtime, network, log } = this.deps;
    const app = this.app;
    const id = newReplicaId();
    const replica = new Replica({
      id,
      hash: this.hash,
      imageName: this.imageName,
      createdMs: this.deps.now(),
      logPath: join(this.deps.logDir, `${id}.log`),
      hasHealthcheck: app.healthcheck !== undefined,
    });
    this.replicas.set(id, replica);
    this.refresh();
    let started: () => void = () => undefined;
    this.starting.set(
      id,
      new Promise<void>((resolve) => {
        started = resolve;
      }),
    );
    try {
      const net = await network.attach(id);
      replica.ip = net.ip;
      await runtime.create(
        replicaContainer(app, {
          id,
          hash: this.hash,
          imageName: this.imageName,
          nodeName: this.deps.nodeName,
          netnsPath: net.netnsPath,
          logPath: replica.logPath,
        }),
      );
      if (this.closed || !replica.is('created')) {
        // Retired meanwhile: the retirement waits for this start, and must find no container.
        await runtime.remove(id);
        return;
      }
      await runtime.start(id);
      // The exit event may have come first (a command that ends at once): onExit handled it.
      if (!replica.is('created')) return;
      replica.running(this.deps.now());
      log.info('replica started', { app: app.name, replica: shortId(id), ip: net.ip });
      this.startProbe(replica);
      this.refresh();
    } catch (err) {
      if (replica.state === 'stopping' || this.closed) return;
      log.warn('replica failed to start', {
        app: app.name,
        replica: shortId(id),
        err: messageOf(err),
      });
      replica.exited(-1, this.deps.now());
      this.fail(replica, messageOf(err));
      this.refresh();
    } finally {
      this.starting.delete(id);
      started();
    }
  }

  private startProbe(replica: Replica): void {
    const check = this.app.healthcheck;
    const port = this.app.ports.find((p) => p.protocol === 'tcp') ?? this.app.ports[0];
    if (check === undefined || replica.ip === undefined || port === undefined) {
      replica.setHealth(check === undefined ? 'none' : 'healthy', '', this.deps.now());
      return;
    }
    replica.probe?.stop();
    replica.probe = this.deps.probes({
      host: replica.ip,
      port: port.containerPort,
      path: check.path,
      intervalMs: check.intervalMs,
      timeoutMs: check.timeoutMs,
      retries: check.retries,
      onChange: (state, detail) => {
        if (replica.state !== 'running') return;
        replica.setHealth(state, detail, this.deps.now());
        if (state === 'unhealthy') {
          this.deps.log.warn('replica unhealthy', {
            app: this.app.name,
            replica: shortId(replica.id),
            detail,
          });
          this.fail(replica, `healthcheck failed: ${detail}`);
        }
        this.refresh();
      },
    });
    replica.probe.start();
  }

  private fail(replica: Replica, reason: string): void {
    this.backoff.failed(this.deps.now());
    this.lastFailure = { replicaId: replica.id, reason, logPath: replica.logPath };
  }

  /** Stops (if running) and deletes a replica: container, network, log. Idempotent. */
  private async retire(replica: Replica): Promise<void> {
    if (replica.retiring !== undefined) return replica.retiring;
    replica.retiring = this.doRetire(replica);
    return replica.retiring;
  }

  private async doRetire(replica: Replica): Promise<void> {
    const { runtime, network, log } = this.deps;
    const wasRunning = replica.state === 'running' || replica.state === 'created';
    if (wasRunning) replica.state = 'stopping';
    replica.probe?.stop();
    this.refresh();
    // Stopping before the start ends could miss a container (or a task) about to exist.
    await this.starting.get(replica.id);
    try {
      if (wasRunning) {
        const status = await runtime.stop(replica.id, this.app.stopTimeoutMs).catch(ignoreMissing);
        if (status !== undefined) replica.exited(status.code, status.atMs);
        this.cutUdpFlows(replica);
      }
      await runtime.remove(replica.id).catch(ignoreMissing);
    } catch (err) {
      // containerd is away: the orchestrator's resync removes the container once it is back.
      log.error('could not remove replica', { replica: shortId(replica.id), err: messageOf(err) });
    }
    try {
      // Even so, the address and the namespace are ours to free now (CNI does not need containerd).
      await network.detach(replica.id);
      await rm(replica.logPath, { force: true });
    } catch (err) {
      log.error('could not free replica network', {
        replica: shortId(replica.id),
        err: messageOf(err),
      });
    } finally {
      this.replicas.delete(replica.id);
      this.refresh();
    }
  }

  /** After any change: re-point the ports, re-decide, wake whoever waits. */
  refresh(): void {
    if (!this.closed) void publishPorts(this.deps, this.app, this.replicas.values());
    queueMicrotask(() => {
      this.reconcile();
      for (const listener of [...this.listeners]) listener();
    });
  }
}

function ignoreMissing(err: unknown): undefined {
  if (err instanceof NotFoundError) return undefined;
  throw err;
}
