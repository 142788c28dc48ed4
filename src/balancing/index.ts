/** Cross-node balancing: per-replica direct endpoints here, remote ones as extra proxy backends. */
export {
  DirectEndpoints,
  type DirectEndpointsOptions,
  type Endpoint,
  type LocalPort,
  type OpenEndpoint,
  type ReplicaPorts,
} from './direct-endpoints';
export {
  backendSets,
  parseEndpoint,
  RemoteBalancer,
  type BalancerSources,
  type RemoteBackendSet,
  type RemoteBackendSink,
  type RemoteBalancerOptions,
  type RemoteReplica,
} from './remote-backends';
