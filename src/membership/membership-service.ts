import { FailedPreconditionError } from '../errors';
import {
  MembershipServiceService,
  type JoinRequest,
  type JoinResponse,
  type Member,
  type MembershipServiceServer,
} from '../gen/budgie/peer/v1/peer';
import type { Logger } from '../log';
import { unary, type ServiceBinding } from '../rpc/handlers';
import type { LeaveProof } from '../trust';
import type { NodeIdentity } from '../trust/identity';
import { callerOf } from '../peer/auth';

/** A member that said Hello: its node id (from its certificate) and the address it gave. */
export interface HelloCaller {
  nodeId: string;
  /** HOST:PORT of its peer API as it claims it; empty when not given. */
  address: string;
}

/** What the membership service needs of the members that left. */
export interface LeaveHandling {
  /** The leaves whose certificates are refused, passed on in every Hello answer. */
  revoked(): LeaveProof[];
  /** A member says it leaves, with its proof: refuse its certificate from now on. */
  onLeave(nodeId: string, proof: LeaveProof | undefined): Promise<void>;
}

export interface MembershipServiceOptions {
  identity: () => NodeIdentity;
  log: Logger;
  /** Lets the member table learn of callers it had not heard of. */
  onHello?: (caller: HelloCaller) => void;
  leaving?: LeaveHandling;
  /** The members this node sees alive (itself included), passed on in Hello answers. */
  members?: () => Member[];
  /** The CA holder's admission of a join another member forwards (see join-service.ts). */
  admit?: (req: JoinRequest) => Promise<JoinResponse>;
}

/**
 * Membership between admitted nodes: Hello, the heartbeat, which shows both ends of mutual TLS:
 * who answers, and who the server read from the caller's certificate; Leave; and Admit, joins
 * forwarded to the CA holder.
 */
export function membershipService(options: MembershipServiceOptions): ServiceBinding {
  const { identity, log, onHello, leaving, admit, members } = options;
  const implementation: MembershipServiceServer = {
    hello: unary(log, 'Hello', (req, _signal, call) => {
      const self = identity();
      const caller = callerOf(call, self.caCertPem);
      onHello?.({ nodeId: caller.nodeId, address: req.address });
      return Promise.resolve({
        nodeId: self.nodeId,
        nodeName: self.nodeName,
        clusterId: self.clusterId,
        callerNodeId: caller.nodeId,
        left: leaving?.revoked() ?? [],
        members: members?.() ?? [],
      });
    }),
    leave: unary(log, 'Leave', async (req, _signal, call) => {
      const caller = callerOf(call, identity().caCertPem);
      log.info('member leaves the cluster', { node: caller.nodeId.slice(0, 12) });
      await leaving?.onLeave(caller.nodeId, req.proof);
      return {};
    }),
    admit: unary(log, 'Admit', async (req, _signal, call) => {
      const caller = callerOf(call, identity().caCertPem);
      if (admit === undefined) {
        throw new FailedPreconditionError('admit: this member does not hold the cluster CA key');
      }
      log.info('a member forwards a join', { member: caller.nodeId.slice(0, 12) });
      return admit(req);
    }),
  };
  return { definition: MembershipServiceService, implementation };
}
