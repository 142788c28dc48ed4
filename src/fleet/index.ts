/**
 * Chirp: the cluster's replicas as one list (this node's and every member's, asked in parallel)
 * and logs of replicas that run on other members.
 */
export { chirp, DEFAULT_CHIRP_TIMEOUT_MS, type ChirpOptions } from './chirp';
export {
  streamRemoteLogs,
  type LogChunk,
  type LogsQuery,
  type RemoteLogSources,
} from './remote-logs';
export type { ChirpResult, ChirpSources, NodeListing, PlacedReplica, Unreachable } from './types';
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
