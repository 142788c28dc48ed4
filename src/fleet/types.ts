import type { MemberView } from '../membership';
import type { AppCounts, ReplicaView } from '../orchestrator/types';

/** A replica as the cluster sees it: what `ps` shows, without this node's own log path. */
export type ClusterReplica = Omit<ReplicaView, 'logPath'>;

/** A replica with the node that runs it and what the cluster needs to know of its app. */
export interface PlacedReplica {
  /** `node` is the name of the node that runs it. */
  replica: ClusterReplica;
  nodeId: string;
  /** HOST:PORT (with "/udp" for UDP) where peers reach each published port. */
  addresses: string[];
  replicasMin: number;
  replicasMax: number;
  /** The direct endpoint per published port, in the order of `replica.ports`; may be empty. */
  direct: string[];
}

/** One node's answer: who it is, what it runs (stopped replicas too), and its apps' counts. */
export interface NodeListing {
  nodeId: string;
  nodeName: string;
  replicas: PlacedReplica[];
  apps: AppCounts[];
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

/** A row of the membership table as the fleet sees it, this node's own included. */
export interface FleetMember extends MemberView {
  self: boolean;
}
