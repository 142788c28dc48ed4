import type { Clock } from '../discovery/clock';
import { messageOf } from '../errors';
import type { Logger } from '../log';
import { askWithin, type MemberView } from '../membership';
import {
  backendSets,
  type MemberAnswer,
  type RemoteBackendSet,
  type RemoteReplica,
} from './backend-sets';

/** Where remote backends go: the ProxyTable merges them with the local replicas of each port. */
export interface RemoteBackendSink {
  setRemote(sets: readonly RemoteBackendSet[]): void;
}

export interface BalancerSources {
  /** The members this node knows, itself excluded; undefined outside a cluster. */
  members(): readonly MemberView[] | undefined;
  /** The member's replicas; rejects when the call fails or `signal` aborts. */
  ask(member: MemberView, signal: AbortSignal): Promise<RemoteReplica[]>;
}

export interface RemoteBalancerOptions {
  sources: BalancerSources;
  sink: RemoteBackendSink;
  clock: Clock;
  log: Logger;
  /** How often the members' replica lists are read. Default 2 s. */
  intervalMs?: number;
  /** How long one member may take to answer before its replicas count as gone. Default 1 s. */
  timeoutMs?: number;
  /** How often member states are looked at between rounds. Default 250 ms. */
  watchMs?: number;
  /**
   * The proxy's connect timeout for remote backends. On a LAN a SYN is answered within a
   * millisecond and a lost one is resent only after 1 s, so a connect still pending after this
   * is to a member that went silent: the client is better served by the next backend. Default
   * 500 ms.
   */
  connectTimeoutMs?: number;
}

/**
 * Keeps every published port's remote backends in step with the cluster: every `intervalMs` it
 * asks each alive member for its replicas and hands the serving ones' direct endpoints to the
 * proxy table. Between rounds it watches member states: a member that turns suspect or dead
 * loses its backends at once (the proxy abandons connects still pending to them), and one that
 * turns alive is asked at once. A gone or unhealthy replica drops out at the next round; the
 * proxy's connect failover covers the time in between.
 */
export class RemoteBalancer {
  private cancelRound: (() => void) | undefined;
  private cancelWatch: (() => void) | undefined;
  private running: Promise<void> | undefined;
  /** A member turned alive during a round: start the next one as soon as this one ends. */
  private again = false;
  /** The members asked in the last round, and the answers still in use, by node id. */
  private asked = new Set<string>();
  private answers = new Map<string, MemberAnswer>();
  private readonly abort = new AbortController();
  private stopped = false;

  constructor(private readonly options: RemoteBalancerOptions) {}

  start(): void {
    this.schedule(0);
    this.watch();
  }

  /** One round now; resolves once the sink has the result. */
  async refresh(): Promise<void> {
    const { log } = this.options;
    const members = this.alive();
    this.asked = new Set(members.map((m) => m.nodeId));
    const answers = await Promise.all(
      members.map(async (member) => ({
        member,
        replicas: await this.askInTime(member).catch((err: unknown) => {
          log.debug('no replica list for balancing', { member: member.name, err: messageOf(err) });
          return [];
        }),
      })),
    );
    if (this.stopped) return;
    this.answers = new Map(answers.map((a) => [a.member.nodeId, a]));
    // A member may have turned suspect while the others answered: it must not come back.
    this.emit(new Set(this.alive().map((m) => m.nodeId)));
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.cancelRound?.();
    this.cancelWatch?.();
    this.abort.abort();
    await this.running;
    this.options.sink.setRemote([]);
  }

  private alive(): MemberView[] {
    return (this.options.sources.members() ?? []).filter((m) => m.state === 'alive');
  }

  /**
   * Hands the sink the answers of the members in `alive`, forgetting the others': a member that
   * left is asked again as soon as it is alive again.
   */
  private emit(alive: ReadonlySet<string>): void {
    for (const id of this.answers.keys()) if (!alive.has(id)) this.answers.delete(id);
    for (const id of this.asked) if (!alive.has(id)) this.asked.delete(id);
    const sets = backendSets([...this.answers.values()], this.options.connectTimeoutMs ?? 500);
    this.options.sink.setRemote(sets);
  }

  /**
   * Member states change as heartbeats come and go, and the member table tells nobody: a look
   * this cheap (a few rows) every `watchMs` bounds how long a silent member keeps backends.
   */
  private watch(): void {
    if (this.stopped) return;
    const alive = new Set(this.alive().map((m) => m.nodeId));
    if ([...this.answers.keys(), ...this.asked].some((id) => !alive.has(id))) this.emit(alive);
    if ([...alive].some((id) => !this.asked.has(id))) {
      if (this.running === undefined) this.schedule(0);
      else this.again = true;
    }
    this.cancelWatch = this.options.clock.schedule(() => {
      this.watch();
    }, this.options.watchMs ?? 250);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.cancelRound?.();
    this.cancelRound = this.options.clock.schedule(() => {
      this.running = this.refresh().finally(() => {
        this.running = undefined;
        const soon = this.again;
        this.again = false;
        this.schedule(soon ? 0 : (this.options.intervalMs ?? 2000));
      });
    }, delayMs);
  }

  private askInTime(member: MemberView): Promise<RemoteReplica[]> {
    const { clock, sources, timeoutMs } = this.options;
    return askWithin(clock, timeoutMs ?? 1000, this.abort.signal, (signal) =>
      sources.ask(member, signal),
    );
  }
}
