import type { LeaveProof } from '../trust';
/** A member's state as this node's heartbeats see it. */
export type MemberState = 'alive' | 'suspect' | 'dead';

/** One row of the membership table. */
export interface MemberView {
  nodeId: string;
  name: string;
  /** HOST:PORT of its peer API. */
  address: string;
  state: MemberState;
  /** When it last answered (unix ms); undefined when it never has. */
  lastSeenMs: number | undefined;
}

/** A peer worth dialling: from mDNS, `--peer`, or the member list a join returned. */
export interface Candidate {
  /** HOST:PORT of its peer API. */
  address: string;
  /** Known from mDNS or a member list; then the TLS handshake is pinned to it. */
  nodeId?: string | undefined;
  name?: string | undefined;
  /** A static peer (`--peer`): asked for ever, never dropped nor forgotten. */
  pinned?: boolean;
}

/** What a heartbeat learns: who answered, and in which cluster. */
export interface HelloAnswer {
  nodeId: string;
  nodeName: string;
  clusterId: string;
  /** Members the peer knows have left, each with its signed leave (see budgie.peer.v1 HelloResponse). */
  left?: LeaveProof[];
  /** Members the peer sees alive, to dial those not known here. */
  members?: { nodeId: string; nodeName: string; address: string }[];
}

/** The heartbeat channel to one peer (mutual TLS in the agent, a fake in unit tests). */
export interface Prober {
  hello(timeoutMs: number): Promise<HelloAnswer>;
  close(): void;
}

export type Dial = (address: string, expectedNodeId: string | undefined) => Prober;

export interface Timings {
  /** How often each peer is asked. */
  heartbeatMs: number;
  /** Without an answer for this long, a member is suspect... */
  suspectAfterMs: number;
  /** ...and dead after this long. It is still asked, so it rejoins when it answers again. */
  deadAfterMs: number;
  /** Silence after which a dead member is forgotten (static peers never are). */
  forgetAfterMs: number;
}
