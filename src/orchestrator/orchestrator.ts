import { join } from 'node:path';
import type { App } from '../bundle/types';
import {
  ConflictError,
  FailedPreconditionError,
  InvalidInputError,
  messageOf,
  NotFoundError,
} from '../errors';
import { AppSupervisor, type SupervisorDeps } from './app-supervisor';
import { followEvents } from './event-follower';
import { RuntimeResync } from './resync';
import { LABEL_APP, shortId } from './labels';
import { adoptedReplica } from './replica';
import { runFailure } from './run-failure';
import type {
  AppCounts,
  AppRecord,
  DesiredStateStore,
  ImageEnsurer,
  ReplicaView,
  RunEvent,
} from './types';

export interface OrchestratorDeps extends Omit<SupervisorDeps, 'now'> {
  images: ImageEnsurer;
  store: DesiredStateStore;
  now?: () => number;
  /** How often containerd's view is compared with ours, to catch events missed. */
  syncIntervalMs?: number;
  /** First and longest wait between tries to subscribe to containerd's events again. */
  eventsRetryMs?: { base: number; max: number };
}

export interface RunOptions {
  detach: boolean;
  /** replicas.min across the cluster when it is not the app's own (a joined app); see AppRecord. */
  clusterMin?: number;
  signal: AbortSignal;
  onEvent(event: RunEvent): void;
}

export interface RunResult {
  app: string;
  replicaIds: string[];
  changed: boolean;
}

const DEFAULT_SYNC_MS = 5000;

/**
 * The node's apps: desired state in the store, one supervisor per app, containerd's events routed
 * to them. On start it re-adopts what containerd still runs, so an agent restart (or crash)
 * never duplicates or loses replicas.
 */
export class Orchestrator {
  private readonly supervisors = new Map<string, AppSupervisor>();
  /** Apps being stopped: out of `supervisors` already, but their containers are not orphans. */
  private readonly closing = new Set<AppSupervisor>();
  private readonly resync: RuntimeResync;
  private readonly stopped = new AbortController();
  private syncTimer: NodeJS.Timeout | undefined;
  private readonly deps: OrchestratorDeps & { now: () => number };

  constructor(deps: OrchestratorDeps) {
    this.deps = { ...deps, now: deps.now ?? Date.now };
    this.resync = new RuntimeResync({
      runtime: deps.runtime,
      network: deps.network,
      log: deps.log,
      now: this.deps.now,
      supervisors: () => [...this.supervisors.values(), ...this.closing],
      closed: () => this.isClosed(),
    });
  }

  /** Recovers the desired state and what containerd runs, then keeps both in step. */
  async start(): Promise<void> {
    await this.recover();
    const { runtime, log, now, eventsRetryMs } = this.deps;
    void followEvents(
      {
        runtime,
        log,
        now,
        resync: () => this.resync.run(),
        onEvent: (event) => {
          if (event.type !== 'exit') return;
          for (const sup of this.supervisors.values()) sup.onExit(event.id, event.code, event.atMs);
        },
        ...(eventsRetryMs === undefined
          ? {}
          : { retryBaseMs: eventsRetryMs.base, retryMaxMs: eventsRetryMs.max }),
      },
      this.stopped.signal,
    );
    this.syncTimer = setInterval(() => {
      void this.resync.run();
    }, this.deps.syncIntervalMs ?? DEFAULT_SYNC_MS);
  }

  /** Stops supervising; containers keep running (containerd owns them) until the next start. */
  close(): void {
    this.stopped.abort();
    clearInterval(this.syncTimer);
    for (const sup of this.supervisors.values()) sup.detach();
  }

  async run(app: App, options: RunOptions): Promise<RunResult> {
    const { images, store } = this.deps;
    options.onEvent({ type: 'phase', text: `${app.name}: preparing image` });
    const imageName = await images.ensure(app.image, {
      signal: options.signal,
      onEvent: (event) => {
        options.onEvent({ type: 'image', event });
      },
    });
    const sup = this.supervisors.get(app.name);
    const stored = await store.get(app.name);
    const scale = clamp(sup?.scale ?? stored?.scale ?? app.replicas.min, app.replicas);
    const standIns = Math.min(
      sup?.record.standIns ?? stored?.standIns ?? 0,
      app.replicas.max - scale,
    );
    const record: AppRecord = {
      app,
      scale,
      standIns,
      clusterMin: Math.min(options.clusterMin ?? app.replicas.min, app.replicas.max),
      updatedMs: this.deps.now(),
    };
    const unchanged = sup?.isCurrent(record, imageName) === true;
    const active =
      sup !== undefined && unchanged ? sup : await this.deploy(record, imageName, sup, options);
    if (!options.detach) await this.waitReady(active, options);
    return { app: app.name, replicaIds: active.views(false).map((r) => r.id), changed: !unchanged };
  }

  /** Claims the ports, stores the desired state, then lets the supervisor act on it. */
  private async deploy(
    record: AppRecord,
    imageName: string,
    sup: AppSupervisor | undefined,
    options: RunOptions,
  ): Promise<AppSupervisor> {
    const { app } = record;
    const { proxies, store } = this.deps;
    // Claim new ports before storing anything: a port in use fails the run cleanly.
    const held = new Set(sup?.app.ports.map((p) => `${p.hostPort}/${p.protocol}`));
    const claimed: App['ports'] = [];
    for (const port of app.ports) {
      if (held.has(`${port.hostPort}/${port.protocol}`)) continue;
      try {
        await proxies.publish({
          owner: app.name,
          protocol: port.protocol,
          port: port.hostPort,
          ...(this.deps.publishAddress === undefined ? {} : { host: this.deps.publishAddress }),
          backends: [],
        });
        claimed.push(port);
      } catch (err) {
        await Promise.all(claimed.map((p) => proxies.unpublish(p.protocol, p.hostPort, 0)));
        throw err;
      }
    }
    if (sup !== undefined) await this.unpublishDropped(sup.app, app);
    await store.save(record);
    options.onEvent({ type: 'phase', text: `${app.name}: starting ${record.scale} replica(s)` });
    if (sup === undefined) {
      const created = this.supervisor(record, imageName);
      created.reconcile();
      return created;
    }
    sup.update(record, imageName);
    return sup;
  }

  list(all: boolean, appName?: string): ReplicaView[] {
    const views: ReplicaView[] = [];
    for (const [name, sup] of this.supervisors) {
      if (appName === undefined || appName === '' || appName === name)
        views.push(...sup.views(all));
    }
    return views.sort((a, b) => a.app.localeCompare(b.app) || a.createdMs - b.createdMs);
  }

  /**
   * The app `target` names (its name, or the ID or unique prefix of one of its replicas) and the
   * stored image its replicas run here, for a member that joins the app (`budgie chirp ID`).
   */
  appOf(target: string): { app: App; imageName: string } {
    const sup = this.supervisors.get(target) ?? this.findReplica(target).supervisor;
    // The image is known only through a replica: the supervisor does not expose its own.
    const imageName = sup.views(true)[0]?.image;
    if (imageName === undefined) {
      throw new NotFoundError(`app ${sup.app.name} has no replica on this node to join`);
    }
    return { app: sup.app, imageName };
  }

  /** An app's replicas.min and .max, for cluster-wide counts; undefined for an unknown app. */
  replicaLimits(appName: string): App['replicas'] | undefined {
    return this.supervisors.get(appName)?.app.replicas;
  }

  /** The apps this node runs (their normalised definitions), for volume sync. */
  apps(): App[] {
    return [...this.supervisors.values()].map((sup) => sup.app);
  }

  /** Every app's counts on this node, for the members that keep replicas.min cluster-wide. */
  counts(): AppCounts[] {
    return [...this.supervisors.values()].map((sup) => {
      const { record } = sup;
      return {
        app: sup.app.name,
        scale: record.scale,
        standIns: record.standIns ?? 0,
        clusterMin: record.clusterMin ?? sup.app.replicas.min,
        max: sup.app.replicas.max,
        live: sup.views(false).filter((r) => r.state === 'created' || r.state === 'running').length,
      };
    });
  }

  /**
   * Sets how many replicas this node runs in place of members that are gone (see src/placement),
   * within the app's max; returns the number set. An app stopped meanwhile is left alone.
   */
  async setStandIns(appName: string, standIns: number): Promise<number> {
    const sup = this.supervisors.get(appName);
    if (sup === undefined) return 0;
    const n = Math.max(0, Math.min(standIns, sup.app.replicas.max - sup.scale));
    if (n === (sup.record.standIns ?? 0)) return n;
    const record: AppRecord = { ...sup.record, standIns: n, updatedMs: this.deps.now() };
    await this.deps.store.save(record);
    const current = this.supervisors.get(appName);
    if (current !== sup) {
      // Stopped while saving: its record must not come back (re-run: the new record stays).
      if (current === undefined) await this.deps.store.remove(appName);
      return 0;
    }
    sup.resize(record);
    return n;
  }

  /** Stops an app (by name) or one replica (by ID or unique prefix). */
  async stop(target: string): Promise<{ app?: string; stoppedIds: string[] }> {
    const sup = this.supervisors.get(target);
    if (sup !== undefined) {
      const ids = [...sup.replicas.keys()];
      this.supervisors.delete(target);
      this.closing.add(sup);
      try {
        await this.deps.store.remove(target);
        await sup.close();
      } finally {
        this.closing.delete(sup);
      }
      await this.unpublishAll(sup.app, sup.app.stopTimeoutMs);
      return { app: target, stoppedIds: ids };
    }
    const { supervisor, id } = this.findReplica(target);
    // Stopping one replica lowers the scale (not below min: then it is replaced).
    const record: AppRecord = {
      ...supervisor.record,
      scale: Math.max(supervisor.app.replicas.min, supervisor.scale - 1),
      updatedMs: this.deps.now(),
    };
    await this.deps.store.save(record);
    await supervisor.stopReplica(id);
    return { stoppedIds: [id] };
  }

  /**
   * `rm`: removes exited replicas, one (ID or unique prefix) or all of an app (name). A replica
   * that is not exited is refused unless `force`, which stops it as `stop` does (for an app
   * name: stops the whole app).
   */
  async remove(target: string, force: boolean): Promise<{ app?: string; removedIds: string[] }> {
    const sup = this.supervisors.get(target);
    if (sup !== undefined) {
      if (force) {
        const stopped = await this.stop(target);
        return { app: target, removedIds: stopped.stoppedIds };
      }
      const removedIds = await sup.removeExited();
      if (removedIds.length === 0) {
        throw new FailedPreconditionError(
          `app ${target} has no exited replicas to remove: stop it with 'budgie stop ${target}' (or 'budgie rm --force ${target}')`,
        );
      }
      return { removedIds };
    }
    const { supervisor, id } = this.findReplica(target);
    const state = supervisor.replicas.get(id)?.state ?? 'exited';
    if (state === 'exited') return { removedIds: await supervisor.removeExited([id]) };
    const short = shortId(id);
    if (!force) {
      throw new FailedPreconditionError(
        `replica ${short} is ${state}: stop it first with 'budgie stop ${short}' (or 'budgie rm --force ${short}')`,
      );
    }
    return { removedIds: (await this.stop(id)).stoppedIds };
  }

  async scale(name: string, replicas: number): Promise<number> {
    const sup = this.supervisors.get(name);
    if (sup === undefined) throw new NotFoundError(`no app named ${name} runs on this node`);
    const { min, max } = sup.app.replicas;
    if (!Number.isInteger(replicas) || replicas < min || replicas > max) {
      throw new InvalidInputError(
        `replicas: expected an integer from ${min} to ${max} (the app's replicas.min..max), got ${replicas}`,
      );
    }
    const record: AppRecord = {
      ...sup.record,
      scale: replicas,
      standIns: Math.min(sup.record.standIns ?? 0, max - replicas),
      updatedMs: this.deps.now(),
    };
    await this.deps.store.save(record);
    sup.resize(record);
    return replicas;
  }

  /** The replicas whose logs `target` (app name, ID or prefix) names. */
  logTargets(target: string): ReplicaView[] {
    const sup = this.supervisors.get(target);
    if (sup !== undefined) return sup.views(true);
    const { supervisor, id } = this.findReplica(target);
    return supervisor.views(true).filter((r) => r.id === id);
  }

  private supervisor(record: AppRecord, imageName: string): AppSupervisor {
    const { now } = this.deps;
    const sup = new AppSupervisor(
      {
        nodeName: this.deps.nodeName,
        logDir: this.deps.logDir,
        runtime: this.deps.runtime,
        network: this.deps.network,
        proxies: this.deps.proxies,
        probes: this.deps.probes,
        ...(this.deps.publishAddress === undefined
          ? {}
          : { publishAddress: this.deps.publishAddress }),
        log: this.deps.log,
        now,
      },
      record,
      imageName,
    );
    this.supervisors.set(record.app.name, sup);
    return sup;
  }

  private findReplica(target: string): { supervisor: AppSupervisor; id: string } {
    if (!/^[0-9a-f]{1,64}$/.test(target)) {
      throw new NotFoundError(`no app or replica named ${target} on this node (see 'budgie ps')`);
    }
    const matches: { supervisor: AppSupervisor; id: string }[] = [];
    for (const supervisor of this.supervisors.values()) {
      for (const id of supervisor.replicas.keys()) {
        if (id.startsWith(target)) matches.push({ supervisor, id });
      }
    }
    const [only, ...more] = matches;
    if (only === undefined) {
      throw new NotFoundError(`no app or replica named ${target} on this node (see 'budgie ps')`);
    }
    if (more.length > 0) {
      const ids = matches.map((m) => shortId(m.id)).join(', ');
      throw new InvalidInputError(
        `replica ID prefix ${target} is ambiguous: it matches ${matches.length} replicas (${ids}); give more of it`,
      );
    }
    return only;
  }

  private waitReady(sup: AppSupervisor, options: RunOptions): Promise<void> {
    const wanted = Math.min(sup.app.replicas.min, sup.scale);
    const seen = new Map<string, string>();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        stopWatching();
        reject(new ConflictError(`stopped waiting; ${sup.app.name} keeps starting in the agent`));
      };
      const check = (): boolean => {
        for (const view of sup.views(true)) {
          const key = `${view.state}/${view.health}`;
          if (seen.get(view.id) !== key) {
            seen.set(view.id, key);
            options.onEvent({ type: 'replica', replica: view });
          }
        }
        if (sup.readyCount() >= wanted) {
          options.signal.removeEventListener('abort', onAbort);
          resolve();
          return true;
        }
        const failure = sup.lastFailure;
        if (failure !== undefined || !this.supervisors.has(sup.app.name)) {
          options.signal.removeEventListener('abort', onAbort);
          runFailure(sup.app.name, failure).then(reject, reject);
          return true;
        }
        return false;
      };
      options.signal.addEventListener('abort', onAbort, { once: true });
      const stopWatching = sup.watch(check);
      check();
    });
  }

  private async unpublishAll(app: App, drainMs: number): Promise<void> {
    await Promise.all(
      app.ports.map((p) => this.deps.proxies.unpublish(p.protocol, p.hostPort, drainMs)),
    );
  }

  private async unpublishDropped(before: App, after: App): Promise<void> {
    const kept = new Set(after.ports.map((p) => `${p.hostPort}/${p.protocol}`));
    for (const p of before.ports) {
      if (!kept.has(`${p.hostPort}/${p.protocol}`)) {
        await this.deps.proxies.unpublish(p.protocol, p.hostPort, before.stopTimeoutMs);
      }
    }
  }

  /** Rebuilds the supervisors from the store and containerd; removes what nobody wants. */
  private async recover(): Promise<void> {
    const { store, runtime, network, images, log } = this.deps;
    const records = await store.list();
    const containers = await runtime.list();
    const networks = new Set(await network.list());
    for (const record of records) {
      try {
        const imageName = await images.ensure(record.app.image, {
          signal: this.stopped.signal,
          onEvent: () => undefined,
        });
        this.supervisor(record, imageName);
      } catch (err) {
        log.error('cannot recover app', { app: record.app.name, err: messageOf(err) });
      }
    }
    const known = new Set<string>();
    // Adopted (their probes started) only once every container is known: a probe answering
    // earlier would have the supervisor start replicas in place of those not adopted yet.
    const adoptions: (() => void)[] = [];
    for (const info of containers) {
      const appName = info.labels[LABEL_APP];
      if (appName === undefined) continue;
      known.add(info.id);
      const sup = this.supervisors.get(appName);
      if (sup === undefined || !networks.has(info.id)) {
        log.info('removing orphaned replica', { app: appName, replica: shortId(info.id) });
        await this.resync.removeOrphan(info);
        continue;
      }
      const net = await network.attach(info.id);
      const logPath = join(this.deps.logDir, `${info.id}.log`);
      const replica = adoptedReplica(info, net.ip, sup.app.healthcheck !== undefined, logPath);
      adoptions.push(() => {
        sup.adopt(replica);
      });
      log.info('re-adopted replica', {
        app: appName,
        replica: shortId(info.id),
        state: info.state,
      });
    }
    for (const adopt of adoptions) adopt();
    for (const id of networks) {
      if (!known.has(id)) await network.detach(id).catch(() => undefined);
    }
    for (const sup of this.supervisors.values()) sup.refresh();
  }

  /** Read afresh: the signal aborts during awaits, which type narrowing cannot see. */
  private isClosed(): boolean {
    return this.stopped.signal.aborted;
  }
}

function clamp(n: number, range: { min: number; max: number }): number {
  return Math.min(range.max, Math.max(range.min, n));
}
