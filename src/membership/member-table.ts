import type { LeaveProof } from '../trust';
import type { Clock } from '../discovery/clock';
import { messageOf } from '../errors';
import type { Logger } from '../log';
import type { Candidate, Dial, MemberState, MemberView, Prober, Timings } from './types';

interface Entry {
  address: string;
  nodeId: string | undefined;
  name: string;
  prober: Prober;
  addedAt: number;
  lastSeen: number | undefined;
  state: MemberState | undefined;
  inFlight: boolean;
  pinned: boolean;
}

/**
 * Candidates at most: peers that have not yet answered a Hello over mutual TLS (what an mDNS
 * advert or a member's list names: anyone on the LAN can advertise the public cluster id). When
 * full, the oldest candidate goes. Each costs a TLS dial per heartbeat.
 */
export const MAX_CANDIDATES = 64;
/**
 * Members read from one Hello answer at most. A real member lists the cluster (tens of nodes);
 * a hostile one could list a million, each a candidate made (a TLS channel) and dropped again.
 */
export const MAX_GOSSIP_PER_ANSWER = 256;
/** A candidate that has not answered within this many dead-afters is dropped (its next advert adds it again). */
const CANDIDATE_LIFETIMES = 3;

export interface MemberTableOptions {
  selfNodeId: string;
  clusterId: string;
  dial: Dial;
  timings: Timings;
  clock: Clock;
  log: Logger;
  /** Told each time a member's state changes, with the address it is heartbeated at. */
  onState?: (address: string, state: MemberState, was: MemberState | undefined) => void;
  /** Members that left are never heartbeated (nor listed) again. */
  isRevoked?: (nodeId: string) => boolean;
  /** Told of the leaves a peer passes on in its Hello answers (`from`: its node id), unchecked. */
  onRevoked?: (proofs: LeaveProof[], from: string) => void;
}

/**
 * The members this node heartbeats, keyed by address: every candidate is asked Hello every
 * `heartbeatMs`, and its state follows from when it last answered (alive, suspect, dead). Only a
 * peer that answered over mutual TLS (its certificate is the cluster CA's) is a member; until
 * then it is a candidate, bounded (MAX_CANDIDATES) and dropped when it never answers. Dead
 * members are still asked, so a node that comes back is alive again at its first answer, and
 * forgotten after `forgetAfterMs`; static peers are asked for ever.
 */
export class MemberTable {
  private readonly entries = new Map<string, Entry>();
  private cancelTick: (() => void) | undefined;
  private closed = false;

  constructor(private readonly options: MemberTableOptions) {}

  start(): void {
    if (this.cancelTick !== undefined || this.closed) return;
    this.tick();
  }

  /** Adds a peer to heartbeat, or fills in what is now known about one. */
  add(candidate: Candidate): void {
    if (this.closed || candidate.nodeId === this.options.selfNodeId) return;
    if (candidate.nodeId !== undefined && this.options.isRevoked?.(candidate.nodeId) === true) {
      return;
    }
    const known = this.entries.get(candidate.address);
    if (known !== undefined) {
      known.nodeId ??= candidate.nodeId;
      if (known.name === '' && candidate.name !== undefined) known.name = candidate.name;
      known.pinned ||= candidate.pinned === true;
      return;
    }
    if (candidate.pinned !== true) this.makeRoomForCandidate();
    const entry: Entry = {
      address: candidate.address,
      nodeId: candidate.nodeId,
      name: candidate.name ?? '',
      prober: this.options.dial(candidate.address, candidate.nodeId),
      addedAt: this.options.clock.now(),
      lastSeen: undefined,
      state: undefined,
      inFlight: false,
      pinned: candidate.pinned === true,
    };
    this.entries.set(entry.address, entry);
    if (this.cancelTick !== undefined) this.probe(entry);
  }

  /**
   * The members, one row per node id (a node reached at two addresses shows once, by its most
   * recent answer). Peers that never answered and whose id is unknown are not listed.
   */
  members(): MemberView[] {
    const byNode = new Map<string, MemberView>();
    for (const entry of this.entries.values()) {
      // A candidate's node id is only what an advert claimed: not a member until it answers.
      if (entry.nodeId === undefined || entry.lastSeen === undefined) continue;
      const view: MemberView = {
        nodeId: entry.nodeId,
        name: entry.name,
        address: entry.address,
        state: this.stateOf(entry),
        lastSeenMs: entry.lastSeen,
      };
      const other = byNode.get(view.nodeId);
      if (other === undefined || (view.lastSeenMs ?? 0) > (other.lastSeenMs ?? 0)) {
        byNode.set(view.nodeId, view);
      }
    }
    return [...byNode.values()];
  }

  /** Whether some entry is this node (at whatever address). */
  private knows(nodeId: string): boolean {
    for (const entry of this.entries.values()) if (entry.nodeId === nodeId) return true;
    return false;
  }

  /** Stops heartbeating a node (at every address it had): it left the cluster. */
  forget(nodeId: string): void {
    for (const entry of [...this.entries.values()]) {
      if (entry.nodeId !== nodeId) continue;
      this.entries.delete(entry.address);
      entry.prober.close();
    }
  }

  close(): void {
    this.closed = true;
    this.cancelTick?.();
    for (const entry of this.entries.values()) entry.prober.close();
    this.entries.clear();
  }

  private tick(): void {
    for (const entry of [...this.entries.values()]) {
      if (this.expired(entry)) continue;
      this.update(entry);
      this.probe(entry);
    }
    this.cancelTick = this.options.clock.schedule(() => {
      this.tick();
    }, this.options.timings.heartbeatMs);
  }

  private probe(entry: Entry): void {
    // One Hello at a time per peer: a slow peer must not pile up calls.
    if (entry.inFlight) return;
    entry.inFlight = true;
    entry.prober.hello(this.options.timings.suspectAfterMs).then(
      (answer) => {
        entry.inFlight = false;
        if (this.closed || this.entries.get(entry.address) !== entry) return;
        if (answer.nodeId === this.options.selfNodeId) {
          // A --peer naming this node itself: nothing to heartbeat.
          this.entries.delete(entry.address);
          entry.prober.close();
          return;
        }
        if (answer.clusterId !== this.options.clusterId) {
          this.options.log.debug('peer is in another cluster', { peer: entry.address });
          return;
        }
        if (answer.left !== undefined && answer.left.length > 0) {
          this.options.onRevoked?.(answer.left, answer.nodeId);
        }
        if (this.options.isRevoked?.(answer.nodeId) === true) {
          // An address that now answers as a node that left: not a member.
          this.entries.delete(entry.address);
          entry.prober.close();
          return;
        }
        entry.nodeId = answer.nodeId;
        entry.name = answer.nodeName;
        entry.lastSeen = this.options.clock.now();
        this.update(entry);
        // Gossip: the peer's members that this node has not heard of are heartbeated too (once
        // the peer itself is a member: the candidates they add must not push it out). A list
        // longer than any real cluster's is a hostile one: only its head is read, and gossip
        // only fills free room among the candidates, never pushes one out, so a member naming
        // made-up nodes at every heartbeat cannot churn the table (a TLS channel each).
        let waiting = this.waiting().length;
        for (const m of (answer.members ?? []).slice(0, MAX_GOSSIP_PER_ANSWER)) {
          if (waiting >= MAX_CANDIDATES) break;
          if (m.address !== '' && !this.knows(m.nodeId) && !this.entries.has(m.address)) {
            this.add({ address: m.address, nodeId: m.nodeId, name: m.nodeName });
            waiting++;
          }
        }
      },
      (err: unknown) => {
        entry.inFlight = false;
        this.options.log.debug('heartbeat failed', { peer: entry.address, error: messageOf(err) });
        this.update(entry);
      },
    );
  }

  /** Recomputes the entry's state and logs a change once, where it happens. */
  private update(entry: Entry): void {
    const state = this.stateOf(entry);
    if (state === entry.state) return;
    const previous = entry.state;
    entry.state = state;
    // A candidate's states are no news: an advert from anyone on the LAN must not fill the log.
    if (entry.nodeId === undefined || entry.lastSeen === undefined) return;
    this.options.onState?.(entry.address, state, previous);
    const level = state === 'alive' ? 'info' : 'warn';
    this.options.log.log(level, `member ${state}`, {
      peer: entry.address,
      node: entry.nodeId.slice(0, 12),
      name: entry.name,
      ...(previous !== undefined && { was: previous }),
    });
  }

  /**
   * Drops a candidate that never answered, and forgets a member dead for `forgetAfterMs`;
   * whether it did. Static peers stay.
   */
  private expired(entry: Entry): boolean {
    if (entry.pinned) return false;
    const now = this.options.clock.now();
    const { deadAfterMs, forgetAfterMs } = this.options.timings;
    if (entry.lastSeen === undefined) {
      if (now - entry.addedAt < CANDIDATE_LIFETIMES * deadAfterMs) return false;
    } else {
      if (now - entry.lastSeen < forgetAfterMs) return false;
      this.options.log.info('forgot a member dead for --forget-after', {
        peer: entry.address,
        node: entry.nodeId?.slice(0, 12),
        name: entry.name,
      });
    }
    this.entries.delete(entry.address);
    entry.prober.close();
    return true;
  }

  /** Candidates: peers that never answered (static peers aside). */
  private waiting(): Entry[] {
    return [...this.entries.values()].filter((e) => e.lastSeen === undefined && !e.pinned);
  }

  /** Drops the oldest candidate when MAX_CANDIDATES are waiting. */
  private makeRoomForCandidate(): void {
    const waiting = this.waiting();
    if (waiting.length < MAX_CANDIDATES) return;
    const oldest = waiting.reduce((a, b) => (b.addedAt < a.addedAt ? b : a));
    this.entries.delete(oldest.address);
    oldest.prober.close();
    this.options.log.debug('candidate dropped: too many waiting', { peer: oldest.address });
  }

  private stateOf(entry: Entry): MemberState {
    const { suspectAfterMs, deadAfterMs } = this.options.timings;
    const since = this.options.clock.now() - (entry.lastSeen ?? entry.addedAt);
    if (since >= deadAfterMs) return 'dead';
    // A peer that never answered is not alive, however recently it was added.
    if (since >= suspectAfterMs || entry.lastSeen === undefined) return 'suspect';
    return 'alive';
  }
}
