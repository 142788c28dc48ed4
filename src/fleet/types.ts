import type { Replica } from '../gen/budgie/v1/apps';
import type { MemberView } from '../membership';

/** A replica with the node that runs it and what the cluster needs to know of its app. */
export interface PlacedReplica {
  /** budgie.v1's Replica; `node` is the name of the node that runs it. */
  replica: Replica;
  nodeId: string;
  /** HOST:PORT (with "/udp" for UDP) where peers reach each published port. */
  addresses: string[];
  replicasMin: number;
  replicasMax: number;
  /** The direct endpoint per published port (see NodeReplica.direct); absent from older data. */
  direct?: string[];
}

/** One node's answer: who it is and what it runs. */
export interface NodeListing {
  nodeId: string;
  nodeName: string;
  replicas: PlacedReplica[];
}

/** A member whose replicas are missing from a chirp, and why. */
export interface Unreachable {
  nodeId: string;
  name: string;
  address: string;
  reason: string;
}

export interface ChirpResult {
  /** False when this node is in no cluster: only its own replicas are listed. */
  clustered: boolean;
  replicas: PlacedReplica[];
  unreachable: Unreachable[];
}

/** How a chirp reaches its own node and its members: the agent wires the real ones. */
export interface ChirpSources {
  self(all: boolean): NodeListing;
  /** The members this node knows (itself excluded); undefined when it is in no cluster. */
  members(): MemberView[] | undefined;
  /** Asks a member for its replicas; rejects when the call fails or `signal` aborts. */
  ask(member: MemberView, all: boolean, signal: AbortSignal): Promise<NodeListing>;
}
