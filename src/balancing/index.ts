/** Cross-node balancing: per-replica direct endpoints here, remote ones as extra proxy backends. */
export {
  backendSets,
  parseEndpoint,
  type MemberAnswer,
  type RemoteBackendSet,
  type RemoteReplica,
} from './backend-sets';
export {
  DirectEndpoints,
  type DirectEndpointsOptions,
  type Endpoint,
  type LocalPort,
  type OpenEndpoint,
  type ReplicaPorts,
} from './direct-endpoints';
export {
  RemoteBalancer,
  type RemoteBackendSink,
  type RemoteBalancerOptions,
} from './remote-backends';
