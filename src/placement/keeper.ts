import type { Clock } from '../discovery/clock';
import { messageOf } from '../errors';
import type { Fleet } from '../fleet';
import type { Logger } from '../log';
import type { AppCounts } from '../orchestrator/types';
import { standInTargets, type MemberCounts } from './decide';

export interface KeeperSources {
  /** The members and their last answers: the keeper asks nobody itself. */
  fleet: Pick<Fleet, 'members' | 'listingOf'>;
  /** This node's apps and counts. */
  local(): AppCounts[];
  /** Sets this node's stand-ins of an app; resolves to the number set. */
  setStandIns(app: string, standIns: number): Promise<number>;
}

export interface ReplicaKeeperOptions {
  sources: KeeperSources;
  clock: Clock;
  log: Logger;
  /** How often the members' counts are looked at and acted on. Default 1 s. */
  intervalMs?: number;
  /**
   * After start, how long to only listen: a node that just started cannot yet tell a dead member
   * from one it has not heard. The membership's dead-after time is the natural value.
   */
  settleMs: number;
}

/**
 * Keeps replicas.min cluster-wide: every round it reads each member's app counts from the fleet
 * (which keeps a member's last answer while it is alive or suspect and forgets it once dead) and
 * sets this node's stand-in replicas to what `standInTargets` decides. It acts only once every
 * member that is not dead has answered at least once, so a partial view never starts a replica.
 */
export class ReplicaKeeper {
  private cancel: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private startedMs = 0;
  private stopped = false;

  constructor(private readonly options: ReplicaKeeperOptions) {}

  start(): void {
    this.startedMs = this.options.clock.now();
    this.schedule(0);
  }

  /** One round now: read the fleet, then act if the view is complete. */
  async refresh(): Promise<void> {
    const { sources, clock } = this.options;
    const rows = sources.fleet.members();
    const self = rows?.find((r) => r.self);
    if (rows === undefined || self === undefined) return;
    if (this.stopped || clock.now() - this.startedMs < this.options.settleMs) return;
    const views: MemberCounts[] = [];
    for (const m of rows) {
      if (m.self || m.state === 'dead') continue;
      const listing = sources.fleet.listingOf(m.nodeId);
      if (listing === undefined) return;
      views.push({ nodeId: m.nodeId, apps: listing.apps });
    }
    await this.apply({ nodeId: self.nodeId, apps: sources.local() }, views);
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.cancel?.();
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
