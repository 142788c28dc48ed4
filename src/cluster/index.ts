/**
 * The cluster's security foundation: a CA, node identities (node id = hash of the node's key),
 * join tokens pinned to the CA, the join protocol, and the peer API server and client with
 * mutual TLS. See the README's "Cluster security" section.
 */
export {
  ClusterIdentity,
  type ClusterIdentityOptions,
  type Joined,
  type NodeFacts,
} from './cluster-identity';
export { blobService, type BlobReader } from './blob-service';
export { imageCacheService, type ImageCache } from './image-cache-service';
export type { ServiceBinding } from '../rpc/handlers';
export type { NodeIdentity } from './identity';
export { shortId } from './ids';
export type { HelloCaller, LeaveHandling } from './membership-service';
export { Revocations } from './revocations';
export { callerOf, type PeerCaller } from './peer-auth';
export { PeerClient } from './peer-client';
export { PeerServer, type PeerServerOptions } from './peer-server';
export { replicaService, type ReplicaSource } from './replica-service';
export { parseToken, formatToken, type JoinToken } from './token';
export { volumeService, type RwVolumeSource } from './volume-service';
