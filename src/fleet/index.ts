/**
 * The fleet: the cluster's one view of apps and replicas. One poll per member feeds it (the
 * `Fleet`); chirp, logs and stop routing, joins ("join an app from a member"), the cluster-wide
 * replicas.max policy, the replica keeper and the balancer read from it. The peer
 * ReplicaService and its client translate the wire messages at the edge.
 */
export { chirp, DEFAULT_CHIRP_TIMEOUT_MS, type ChirpOptions, type ChirpSources } from './chirp';
export {
  Fleet,
  type FleetOptions,
  type FleetSources,
  type FreshAnswer,
  type MemberReplicas,
} from './fleet';
export {
  streamRemoteLogs,
  type LogChunk,
  type LogsQuery,
  type RemoteLogSources,
} from './remote-logs';
export { ReplicaClient } from './replica-client';
export { fromReplica, toReplica } from './replica-wire';
export type {
  ChirpResult,
  ClusterReplica,
  FleetMember,
  NodeListing,
  PlacedReplica,
  Unreachable,
} from './types';
export {
  countRunning,
  joinApp,
  localCopy,
  type JoinEvent,
  type JoinPeer,
  type JoinResult,
  type JoinSources,
  type VolumeCopyEvent,
  type VolumeCopyStats,
  type PeerApp,
} from './join';
export { stopInCluster, type ClusterStopOutcome, type StopOutcome, type StopSources } from './stop';
export { replicaService, type ReplicaSource } from './replica-service';
export { refusePastClusterMax, refuseScalePastMax, routeLogs, type LogRoutes } from './app-policy';
