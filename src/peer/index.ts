/**
 * The peer transport: the peer API server with mutual TLS and its members-only interceptor, the
 * client side of a member's connection, and the deadline and error rules of every peer call.
 * The services themselves live beside their domains (fleet, membership, images, volumes, trust).
 */
export type { ServiceBinding } from '../rpc/handlers';
export { callerOf, type PeerCaller } from './auth';
export { PeerClient } from './client';
export { PeerServer, type PeerServerOptions } from './server';
