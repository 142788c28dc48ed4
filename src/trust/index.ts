/**
 * Trust: the cluster's security foundation. A CA, node identities (node id = hash of the node's
 * key), join tokens pinned to the CA, the join protocol, TLS credentials and revocations. See the
 * README's "Cluster security" section. The peer transport (src/peer) builds on it.
 */
export {
  ClusterIdentity,
  type ClusterIdentityOptions,
  type Joined,
  type NodeFacts,
} from './cluster-identity';
export type { NodeIdentity } from './identity';
export { isNodeId, shortId } from './ids';
export { Revocations, MAX_REVOCATIONS, type CheckLeave, type Refused } from './revocations';
export { checkLeave, signLeave, signRemoval, type LeaveProof } from './leave-proof';
export { parseToken, formatToken, type JoinToken } from './token';
export type { KnownMember } from './join-client';
