/**
 * The peer transport: the peer API server with mutual TLS and its members-only interceptor, one
 * pooled channel per member that every service's client rides on, and the deadline and error
 * rules of every peer call. The services and their clients live beside their domains (fleet,
 * membership, images, volumes, trust).
 */
export type { ServiceBinding } from '../rpc/handlers';
export { callerOf, type PeerCaller } from './auth';
export { peerCall, peerStream, PEER_STALL_MS, type CallOptions } from '../rpc/peer-calls';
export { PeerChannel, type ServiceClientConstructor } from './channel';
export { PeerServer, type PeerServerOptions } from './server';
