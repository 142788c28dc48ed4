import type { Logger } from '../log';
import { PeerServer } from '../peer';
import type { ServiceBinding } from '../rpc/handlers';
import { ChallengeStore } from '../trust/challenges';
import type { KnownMember } from '../trust';
import type { NodeIdentity } from '../trust/identity';
import { admitter, JOIN_SERVICE_NAME, joinService, type ForwardJoin } from '../trust/join-service';
import { membershipService, type HelloCaller, type LeaveHandling } from './membership-service';

export interface MemberServerOptions {
  /** The node's identity when the server starts; its TLS certificate comes from it. */
  identity: () => NodeIdentity;
  log: Logger;
  now?: () => number;
  members?: () => KnownMember[];
  /** Called on every Hello from a member, with who it is and where it says it listens. */
  onHello?: (caller: HelloCaller) => void;
  /** More members-only services (replicas, blobs, ...) as other rooms add them. */
  services?: readonly ServiceBinding[];
  /** On a member without the CA key: hands a join to the member that holds it. */
  forwardJoin?: ForwardJoin;
  /** Members that left: refused by the interceptor, told to members in Hello answers. */
  leaving?: LeaveHandling & { has(nodeId: string): boolean };
}

/**
 * A member's peer server: the open JoinService (how a node becomes a member), the members-only
 * MembershipService (heartbeats, forwarded joins, leaving) and the services the other rooms add.
 */
export function memberServer(options: MemberServerOptions): PeerServer {
  const now = options.now ?? Date.now;
  const { log, leaving } = options;
  const admission = {
    identity: options.identity,
    now,
    ...(options.members && { members: options.members }),
    log,
  };
  return new PeerServer({
    identity: options.identity,
    openServices: [JOIN_SERVICE_NAME],
    ...(leaving && { isRevoked: (nodeId: string) => leaving.has(nodeId) }),
    services: [
      joinService({
        ...admission,
        challenges: new ChallengeStore({ now }),
        ...(options.forwardJoin && { forward: options.forwardJoin }),
      }),
      membershipService({
        identity: options.identity,
        log,
        ...(options.onHello && { onHello: options.onHello }),
        ...(leaving && { leaving }),
        ...(options.members && { members: options.members }),
        admit: admitter(admission),
      }),
      ...(options.services ?? []),
    ],
  });
}
