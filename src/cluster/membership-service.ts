import { MembershipServiceService, type MembershipServiceServer } from '../gen/budgie/peer/v1/peer';
import type { Logger } from '../log';
import { unary, type ServiceBinding } from '../rpc/handlers';
import type { NodeIdentity } from './identity';
import { callerOf } from './peer-auth';

/** A member that said Hello: its node id (from its certificate) and the address it gave. */
export interface HelloCaller {
  nodeId: string;
  /** HOST:PORT of its peer API as it claims it; empty when not given. */
  address: string;
}

/** What the membership service needs of the members that left. */
export interface LeaveHandling {
  /** Node ids whose certificates are refused, passed on in every Hello answer. */
  revoked(): string[];
  /** A member says it leaves: refuse its certificate from now on. */
  onLeave(nodeId: string): Promise<void>;
}

/**
 * Membership between admitted nodes: Hello, the heartbeat, which shows both ends of mutual TLS:
 * who answers, and who the server read from the caller's certificate, and Leave. `onHello` lets
 * the member table learn of callers it had not heard of.
 */
export function membershipService(
  identity: () => NodeIdentity,
  log: Logger,
  onHello?: (caller: HelloCaller) => void,
  leaving?: LeaveHandling,
): ServiceBinding {
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
        revokedNodeIds: leaving?.revoked() ?? [],
      });
    }),
    leave: unary(log, 'Leave', async (_req, _signal, call) => {
      const caller = callerOf(call, identity().caCertPem);
      log.info('member leaves the cluster', { node: caller.nodeId.slice(0, 12) });
      await leaving?.onLeave(caller.nodeId);
      return {};
    }),
  };
  return { definition: MembershipServiceService, implementation };
}
