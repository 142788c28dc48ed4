import type { Clock } from '../discovery/clock';
import { messageOf } from '../errors';
import type { Logger } from '../log';
import type { MemberView } from '../membership';
import { askWithin } from './ask-within';
import type { FleetMember, NodeListing } from './types';

export interface FleetSources {
  /** Every member, this node included; undefined outside a cluster. */
  members(): readonly FleetMember[] | undefined;
  /** A member's replicas (stopped ones too) and app counts; rejects on failure or abort. */
  ask(member: MemberView, signal: AbortSignal): Promise<NodeListing>;
}

export interface FleetOptions {
  sources: FleetSources;
  clock: Clock;
  log: Logger;
  /** How often each member is asked. Default 1 s. */
  intervalMs?: number;
  /** How long a member may take to answer; its last answer stands meanwhile. Default 1 s. */
  timeoutMs?: number;
  /**
   * How often member states are looked at between asks. The member table tells nobody when a
   * heartbeat is missed: a look this cheap (a few rows) bounds how long a silent member's
   * replicas keep counting as served. Default 250 ms.
   */
  watchMs?: number;
}

/** What the fleet knows of one member that is not dead. */
export interface MemberReplicas {
  /** The member's row as the membership table has it now. */
  member: FleetMember;
  /** Its last answer, kept while it is alive or suspect: a slow member is not a gone one. */
  listing: NodeListing | undefined;
  /** Whether its latest ask succeeded (false once one failed or timed out). */
  current: boolean;
}

/** A member's answer to a fresh ask, or why there is none. */
export type FreshAnswer = { listing: NodeListing } | { reason: string };

interface Waiter {
  resolve(answer: FreshAnswer): void;
}

/** One member's poll: its last answer, the ask in flight, and who waits for the next one. */
interface Poll {
  member: FleetMember;
  listing: NodeListing | undefined;
  current: boolean;
  inFlight: boolean;
  /** Ask again as soon as the one in flight ends (someone wants an answer newer than it). */
  again: boolean;
  /** The longest deadline a waiter asked for, for the next ask. */
  nextTimeoutMs: number;
  /** Waiting for an ask that starts after they came. */
  waiters: Waiter[];
  cancelTimer: () => void;
}

/**
 * The cluster's one view of apps and replicas: every member that is not dead is asked for its
 * replica listing every `intervalMs`, each on its own loop, and the answers are kept by node id.
 * The replica keeper, the balancer, chirp, logs and stop all read from here, so that each
 * member is asked once per interval whatever the number of readers. A member that turns alive
 * is asked at once; one that turns dead is forgotten. Readers hear of every answer and state
 * change through `onUpdate`.
 */
export class Fleet {
  private readonly polls = new Map<string, Poll>();
  private readonly listeners = new Set<() => void>();
  private readonly abort = new AbortController();
  private cancelWatch: (() => void) | undefined;
  private started = false;
  private stopped = false;

  constructor(private readonly options: FleetOptions) {}

  start(): void {
    this.started = true;
    this.watch();
  }

  /** The membership rows (this node's included); undefined outside a cluster. */
  members(): readonly FleetMember[] | undefined {
    return this.options.sources.members();
  }

  /** Every member that is not dead (this node excluded), with what the fleet knows of it. */
  answers(): MemberReplicas[] {
    const out: MemberReplicas[] = [];
    for (const member of this.options.sources.members() ?? []) {
      if (member.self || member.state === 'dead') continue;
      const poll = this.polls.get(member.nodeId);
      out.push({ member, listing: poll?.listing, current: poll?.current ?? false });
    }
    return out;
  }

  /** The last answer of a member that is not dead; undefined when it has not answered yet. */
  listingOf(nodeId: string): NodeListing | undefined {
    return this.polls.get(nodeId)?.listing;
  }

  /**
   * The replicas other members that are not dead want of an app (their scales and stand-ins), as
   * their last answers said: what this node's share must leave room for under replicas.max.
   */
  wantedElsewhere(app: string): number {
    let n = 0;
    for (const poll of this.polls.values()) {
      const counts = poll.listing?.apps.find((a) => a.app === app);
      if (counts !== undefined) n += counts.scale + counts.standIns;
    }
    return n;
  }

  /** Replicas starting or running on a member, as its last answer said; undefined if none yet. */
  liveOn(nodeId: string): number | undefined {
    return this.polls.get(nodeId)?.listing?.apps.reduce((n, app) => n + app.live, 0);
  }

  /** Calls `listener` after every answer and every member state change; returns an unsubscribe. */
  onUpdate(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * An answer from every alive member given by an ask that starts after this call (so it shows
   * any change made before it), within `timeoutMs` for each. Asks in flight are not repeated:
   * their members are asked again as soon as they end. Never rejects.
   */
  fresh(members: readonly FleetMember[], timeoutMs: number): Promise<FreshAnswer>[] {
    return members.map(
      (member) =>
        new Promise<FreshAnswer>((resolve) => {
          if (this.stopped) {
            resolve({ reason: 'the agent is stopping' });
            return;
          }
          const poll = this.pollOf(member);
          poll.waiters.push({ resolve });
          poll.nextTimeoutMs = Math.max(poll.nextTimeoutMs, timeoutMs);
          if (poll.inFlight) poll.again = true;
          else this.ask(poll);
        }),
    );
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.cancelWatch?.();
    this.abort.abort();
    for (const poll of this.polls.values()) this.forget(poll);
    this.polls.clear();
    this.listeners.clear();
    // Asks in flight reject at once on the abort above; let their handlers run.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  private pollOf(member: FleetMember): Poll {
    let poll = this.polls.get(member.nodeId);
    if (poll === undefined) {
      poll = {
        member,
        listing: undefined,
        current: false,
        inFlight: false,
        again: false,
        nextTimeoutMs: 0,
        waiters: [],
        cancelTimer: () => undefined,
      };
      this.polls.set(member.nodeId, poll);
    }
    return poll;
  }

  private ask(poll: Poll): void {
    const { clock, log, sources } = this.options;
    poll.cancelTimer();
    poll.inFlight = true;
    poll.again = false;
    const waiters = poll.waiters;
    poll.waiters = [];
    const timeoutMs = Math.max(this.options.timeoutMs ?? 1000, poll.nextTimeoutMs);
    poll.nextTimeoutMs = 0;
    void askWithin(clock, timeoutMs, this.abort.signal, (signal) =>
      sources.ask(poll.member, signal),
    ).then(
      (listing) => {
        this.settle(poll, { listing }, waiters);
      },
      (err: unknown) => {
        const reason = messageOf(err);
        log.debug('no replica listing from member', { member: poll.member.name, err: reason });
        this.settle(
          poll,
          { reason: reason === 'no answer in time' ? timedOut(timeoutMs) : reason },
          waiters,
        );
      },
    );
  }

  private settle(poll: Poll, answer: FreshAnswer, waiters: Waiter[]): void {
    poll.inFlight = false;
    for (const w of waiters) w.resolve(answer);
    // Forgotten meanwhile (dead, or the fleet closed): the answer is of no use any more.
    if (this.polls.get(poll.member.nodeId) !== poll) return;
    if ('listing' in answer) poll.listing = answer.listing;
    poll.current = 'listing' in answer;
    this.emit();
    if (poll.again) this.ask(poll);
    else this.scheduleAsk(poll, this.options.intervalMs ?? 1000);
  }

  private scheduleAsk(poll: Poll, delayMs: number): void {
    if (!this.started || this.stopped) return;
    poll.cancelTimer();
    poll.cancelTimer = this.options.clock.schedule(() => {
      this.ask(poll);
    }, delayMs);
  }

  /** Follows the member table: new members are asked, dead ones forgotten, changes told. */
  private watch(): void {
    if (this.stopped) return;
    let changed = false;
    const present = new Set<string>();
    for (const member of this.options.sources.members() ?? []) {
      if (member.self || member.state === 'dead') continue;
      present.add(member.nodeId);
      const known = this.polls.get(member.nodeId);
      if (known === undefined) {
        this.ask(this.pollOf(member));
        continue;
      }
      const before = known.member.state;
      known.member = member;
      if (before === member.state) continue;
      changed = true;
      // Back after a silence: its replicas count again only once it has answered again.
      if (member.state === 'alive') {
        known.current = false;
        if (known.inFlight) known.again = true;
        else this.ask(known);
      }
    }
    for (const [nodeId, poll] of this.polls) {
      if (present.has(nodeId)) continue;
      this.forget(poll);
      this.polls.delete(nodeId);
      changed = true;
    }
    if (changed) this.emit();
    this.cancelWatch = this.options.clock.schedule(() => {
      this.watch();
    }, this.options.watchMs ?? 250);
  }

  private forget(poll: Poll): void {
    poll.cancelTimer();
    for (const w of poll.waiters) w.resolve({ reason: `${poll.member.name} is gone` });
    poll.waiters = [];
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

function timedOut(timeoutMs: number): string {
  return `no answer within ${timeoutMs} ms`;
}
