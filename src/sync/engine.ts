import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  FailedPreconditionError,
  messageOf,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
} from '../errors';
import type { FileJobs } from '../fs';
import type { Logger } from '../log';
import type { SyncVolumes } from './sync-service';
import type { SyncPeer } from './transfer';
import { VolumeSync, type VolumeSyncStatus } from './volume-sync';

/** An rw volume of an app this node runs: what it is called in the cluster, and where it is here. */
export interface SyncVolumeSpec {
  app: string;
  target: string;
  dir: string;
}

export interface SyncMember {
  nodeId: string;
  address: string;
}

/** What the engine reads of the node and the cluster (the agent wires the orchestrator and fleet). */
export interface SyncEngineSources {
  /** This node's id; undefined outside a cluster (nothing to sync with). */
  selfId(): string | undefined;
  volumes(): SyncVolumeSpec[];
  /** The members other than this node that run `app`, from the cluster's one view (the fleet). */
  membersRunning(app: string): SyncMember[];
  peer(member: SyncMember, app: string, target: string): SyncPeer;
}

export interface SyncEngineOptions {
  sources: SyncEngineSources;
  /** The agent's state dir: indexes live under sync/ in it. */
  stateDir: string;
  log: Logger;
  /** How often each volume is rescanned whole, besides the watcher. Default 30 s. */
  rescanMs?: number;
  /** How long a long poll waits for a member's change. Default 25 s. */
  waitMs?: number;
  /** Where whole-file jobs run (the agent's worker threads). Default inline. */
  jobs?: FileJobs;
}

interface Running {
  sync: VolumeSync;
  ready: Promise<boolean>;
  pullers: Map<string, AbortController>;
}

const MAX_BACKOFF_MS = 5000;
/** How long a member that asked to join an app may pull its volumes before it runs the app. */
const JOIN_GRANT_MS = 10 * 60_000;
/** Join grants kept at most: a member asking again and again cannot grow this without bound. */
const MAX_JOIN_GRANTS = 1000;

/** What a join's first round moved. */
export interface FirstRoundStats {
  files: number;
  bytes: number;
}

/**
 * Keeps every rw volume of every app this node runs in sync with the members that run the app:
 * one VolumeSync per volume, and one pull loop per member of it, started and stopped as apps and
 * members come and go (`reconcile`, on every fleet update). Each loop long-polls the member's
 * feed, so a change reaches this node about as soon as the member has indexed it.
 */
export class SyncEngine implements SyncVolumes {
  private readonly running = new Map<string, Running>();
  /** `${nodeId}\0${app}` → until when the member may pull the app's volumes while it joins. */
  private readonly joinGrants = new Map<string, number>();
  private closed = false;

  constructor(private readonly options: SyncEngineOptions) {}

  reconcile(): void {
    if (this.closed) return;
    const { sources } = this.options;
    const self = sources.selfId();
    const wanted = new Map<string, SyncVolumeSpec>();
    if (self !== undefined)
      for (const v of sources.volumes()) wanted.set(keyOf(v.app, v.target), v);
    for (const [key, run] of this.running) {
      if (!wanted.has(key)) {
        this.running.delete(key);
        void this.stop(run);
      }
    }
    for (const [key, spec] of wanted) {
      let run = this.running.get(key);
      if (run === undefined && self !== undefined) {
        run = this.open(spec, self);
        this.running.set(key, run);
      }
      if (run !== undefined) this.pullers(run, spec);
    }
  }

  volumeFor(caller: string, app: string, target: string): VolumeSync {
    const run = this.running.get(keyOf(app, target));
    if (run === undefined) {
      throw new NotFoundError(`app ${app} has no rw volume at ${target} synced on this node`);
    }
    const grant = this.joinGrants.get(keyOf(caller, app)) ?? 0;
    if (
      grant < Date.now() &&
      !this.options.sources.membersRunning(app).some((m) => m.nodeId === caller)
    ) {
      throw new PermissionDeniedError(`node ${caller} does not run app ${app}, nor joins it`);
    }
    return run.sync;
  }

  /**
   * A member was given the app to join it (`budgie chirp ID` there): it may pull the app's
   * volumes for a while before it runs a replica, which is how its first round gets the data.
   */
  grantJoin(nodeId: string, app: string): void {
    const now = Date.now();
    for (const [key, until] of this.joinGrants) if (until < now) this.joinGrants.delete(key);
    if (this.joinGrants.size >= MAX_JOIN_GRANTS) return;
    this.joinGrants.set(keyOf(nodeId, app), now + JOIN_GRANT_MS);
  }

  /**
   * A joining node's copy of a member's volume, as the first sync round: the member's feed
   * pulled into `spec.dir` until caught up, with the index kept for the sync that follows once
   * the app runs here (so nothing is moved twice, and what changes on the member meanwhile is
   * just the next round). Data already in `spec.dir` is indexed first and synced by the rules.
   */
  async firstRound(
    spec: SyncVolumeSpec,
    member: SyncMember,
    signal: AbortSignal,
    onProgress: (stats: FirstRoundStats) => void,
  ): Promise<FirstRoundStats> {
    const self = this.options.sources.selfId();
    if (self === undefined) throw new UnavailableError('sync: this node is not in a cluster');
    if (this.running.has(keyOf(spec.app, spec.target))) {
      throw new FailedPreconditionError(
        `app ${spec.app}'s volume ${spec.target} is synced already`,
      );
    }
    const sync = new VolumeSync({
      ...spec,
      self,
      indexFile: indexFileOf(this.options.stateDir, spec.app, spec.target),
      log: this.options.log.child({ app: spec.app, volume: spec.target }),
      rescanMs: 0,
      watch: false,
      ...(this.options.jobs === undefined ? {} : { jobs: this.options.jobs }),
    });
    await sync.start();
    const peer = this.options.sources.peer(member, spec.app, spec.target);
    const timer = setInterval(() => {
      onProgress(statsOf(sync));
    }, 250);
    try {
      while (!(await sync.pullOnce(peer, 0, signal))) signal.throwIfAborted();
      return statsOf(sync);
    } finally {
      clearInterval(timer);
      await sync.close();
    }
  }

  /** Every synced volume (of `app` only, when given). */
  status(app?: string): VolumeSyncStatus[] {
    return [...this.running.values()]
      .filter((r) => app === undefined || app === '' || r.sync.app === app)
      .map((r) => r.sync.status([...r.pullers.keys()]))
      .sort((a, b) => a.app.localeCompare(b.app) || a.target.localeCompare(b.target));
  }

  async close(): Promise<void> {
    this.closed = true;
    const runs = [...this.running.values()];
    this.running.clear();
    await Promise.all(runs.map((r) => this.stop(r)));
  }

  private open(spec: SyncVolumeSpec, self: string): Running {
    const { log, stateDir, rescanMs, jobs } = this.options;
    const sync = new VolumeSync({
      ...spec,
      self,
      indexFile: indexFileOf(stateDir, spec.app, spec.target),
      log: log.child({ app: spec.app, volume: spec.target }),
      ...(rescanMs === undefined ? {} : { rescanMs }),
      ...(jobs === undefined ? {} : { jobs }),
    });
    const ready = sync.start().then(
      () => true,
      (err: unknown) => {
        log.error('sync volume failed to start', {
          app: spec.app,
          target: spec.target,
          error: messageOf(err),
        });
        return false;
      },
    );
    return { sync, ready, pullers: new Map() };
  }

  private pullers(run: Running, spec: SyncVolumeSpec): void {
    const members = this.options.sources.membersRunning(spec.app);
    const ids = new Set(members.map((m) => m.nodeId));
    run.sync.setMembers(ids);
    for (const [nodeId, abort] of run.pullers) {
      if (!ids.has(nodeId)) {
        abort.abort();
        run.pullers.delete(nodeId);
        run.sync.forget(nodeId);
      }
    }
    for (const member of members) {
      if (run.pullers.has(member.nodeId)) continue;
      const abort = new AbortController();
      run.pullers.set(member.nodeId, abort);
      void this.pull(run, member, spec, abort.signal);
    }
  }

  private async pull(
    run: Running,
    member: SyncMember,
    spec: SyncVolumeSpec,
    signal: AbortSignal,
  ): Promise<void> {
    if (!(await run.ready)) return;
    const { log, sources } = this.options;
    const peer = sources.peer(member, spec.app, spec.target);
    let backoff = 250;
    let lastError = '';
    // A function, not the expressions inline: both change while a round awaits.
    const stopped = (): boolean => signal.aborted || this.closed;
    while (!stopped()) {
      try {
        await run.sync.pullOnce(peer, this.options.waitMs ?? 25_000, signal);
        backoff = 250;
        lastError = '';
      } catch (err) {
        if (stopped()) return;
        const message = messageOf(err);
        // Once per kind of failure at warn: a member that is down is not news every second.
        if (message !== lastError) {
          log.warn('sync with a member failed; retrying', {
            app: spec.app,
            target: spec.target,
            member: member.nodeId,
            error: message,
          });
        }
        lastError = message;
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  private async stop(run: Running): Promise<void> {
    for (const abort of run.pullers.values()) abort.abort();
    run.pullers.clear();
    await run.ready;
    await run.sync.close();
  }
}

function keyOf(app: string, target: string): string {
  return `${app}\0${target}`;
}

/** Where a volume's index lives: named by the target, readable, and unique by a hash of it. */
function indexFileOf(stateDir: string, app: string, target: string): string {
  const slug = target
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^_+/, '')
    .slice(0, 60);
  const hash = createHash('sha256').update(target).digest('hex').slice(0, 12);
  return join(stateDir, 'sync', app, `${slug || 'root'}-${hash}.json`);
}

function statsOf(sync: VolumeSync): FirstRoundStats {
  return { files: sync.received.files, bytes: sync.received.fileBytes };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
