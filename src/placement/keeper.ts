import type { Clock } from '../discovery/clock';
import { messageOf } from '../errors';
import type { Logger } from '../log';
import { askWithin, type MemberView } from '../membership';
import type { AppCounts } from '../orchestrator/types';
import { standInTargets, type MemberCounts } from './decide';

/** A member as the keeper sees it: a row of the membership table, this node's own included. */
export interface KeeperMember extends MemberView {
  self: boolean;
}

export interface KeeperSources {
  /** Every member, this node included; undefined outside a cluster. */
  members(): readonly KeeperMember[] | undefined;
  /** A member's apps and counts; rejects when the call fails or `signal` aborts. */
  ask(member: MemberView, signal: AbortSignal): Promise<AppCounts[]>;
  /** This node's apps and counts. */
  local(): AppCounts[];
  /** Sets this node's stand-ins of an app; resolves to the number set. */
  setStandIns(app: string, standIns: number): Promise<number>;
}

export interface ReplicaKeeperOptions {
  sources: KeeperSources;
  clock: Clock;
  log: Logger;
  /** How often the members' counts are read and acted on. Default 1 s. */
  intervalMs?: number;
  /** How long one member may take to answer; its last answer stands meanwhile. Default 1 s. */
  timeoutMs?: number;
  /**
   * After start, how long to only listen: a node that just started cannot yet tell a dead member
   * from one it has not heard. The membership's dead-after time is the natural value.
   */
  settleMs: number;
}

/**
 * Keeps replicas.min cluster-wide: every round it reads each member's app counts (keeping a
 * member's last answer while it is alive or suspect, forgetting it once dead) and sets this
 * node's stand-in replicas to what `standInTargets` decides. It acts only once every member that
 * is not dead has answered at least once, so a partial view never starts a replica.
 */
export class ReplicaKeeper {
  private readonly known = new Map<string, readonly AppCounts[]>();
  private readonly abort = new AbortController();
  private cancel: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private startedMs = 0;
  private stopped = false;

  constructor(private readonly options: ReplicaKeeperOptions) {}

  start(): void {
    this.startedMs = this.options.clock.now();
    this.schedule(0);
  }

  /** One round now: read the members, then act if the view is complete. */
  async refresh(): Promise<void> {
    const { sources, clock, log } = this.options;
    const rows = sources.members();
    const self = rows?.find((r) => r.self);
    if (rows === undefined || self === undefined) {
      this.known.clear();
      return;
    }
    const others = rows.filter((r) => !r.self);
    const present = new Set(others.filter((r) => r.state !== 'dead').map((r) => r.nodeId));
    for (const nodeId of this.known.keys()) if (!present.has(nodeId)) this.known.delete(nodeId);
    await Promise.all(
      others
        .filter((m) => present.has(m.nodeId))
        .map(async (m) => {
          try {
            const apps = await askWithin(
              clock,
              this.options.timeoutMs ?? 1000,
              this.abort.signal,
              (signal) => sources.ask(m, signal),
            );
            this.known.set(m.nodeId, apps);
          } catch (err) {
            log.debug('no app counts from member', { member: m.name, err: messageOf(err) });
          }
        }),
    );
    if (this.stopped || clock.now() - this.startedMs < this.options.settleMs) return;
    const views: MemberCounts[] = [];
    for (const nodeId of present) {
      const apps = this.known.get(nodeId);
      if (apps === undefined) return;
      views.push({ nodeId, apps });
    }
    await this.apply({ nodeId: self.nodeId, apps: sources.local() }, views);
  }

  /**
   * The replicas other members that are not dead want of an app (their scales and stand-ins), as
   * their last answers said: what a scale here must leave room for under max.
   */
  elsewhere(app: string): number {
    let n = 0;
    for (const apps of this.known.values()) {
      const counts = apps.find((a) => a.app === app);
      if (counts !== undefined) n += counts.scale + counts.standIns;
    }
    return n;
  }

  /** Replicas starting or running on a member, as its last answer said; undefined if none yet. */
  liveOn(nodeId: string): number | undefined {
    return this.known.get(nodeId)?.reduce((n, app) => n + app.live, 0);
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.cancel?.();
    this.abort.abort();
    await this.running;
  }

  private async apply(self: MemberCounts, others: MemberCounts[]): Promise<void> {
    const { sources, log } = this.options;
    for (const [app, target] of standInTargets(self, others)) {
      const current = self.apps.find((a) => a.app === app)?.standIns ?? 0;
      if (target === current || this.stopped) continue;
      try {
        const set = await sources.setStandIns(app, target);
        log.info(
          set > current
            ? 'starting stand-in replicas for members that are gone'
            : 'stopping stand-in replicas that are no longer needed',
          { app, from: current, to: set },
        );
      } catch (err) {
        log.warn('could not change stand-in replicas', { app, err: messageOf(err) });
      }
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.cancel = this.options.clock.schedule(() => {
      this.running = this.refresh()
        .catch((err: unknown) => {
          this.options.log.warn('replica keeper round failed', { err: messageOf(err) });
        })
        .finally(() => {
          this.schedule(this.options.intervalMs ?? 1000);
        });
    }, delayMs);
  }
}
