/**
 * Membership: the table of members this node heartbeats over the peer channel, and the
 * ClusterNode that ties identity, the peer server, mDNS and static peers to it for the agent.
 */
export { ClusterNode, type ClusterNodeOptions, type NodeRow } from './cluster-node';
export { MemberTable, type MemberTableOptions } from './member-table';
export type {
  Candidate,
  Dial,
  HelloAnswer,
  MemberState,
  MemberView,
  Prober,
  Timings,
} from './types';
export type { HelloCaller, LeaveHandling } from './membership-service';
export { MembershipClient } from './membership-client';
export { memberServer, type MemberServerOptions } from './member-server';
