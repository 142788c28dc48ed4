import { MembershipServiceService, type MembershipServiceServer } from '../gen/budgie/peer/v1/peer';
import type { Logger } from '../log';
import { unary, type PeerServiceBinding } from './handlers';
import type { NodeIdentity } from './identity';
import { callerOf } from './peer-auth';

/**
 * Membership between admitted nodes; for now only Hello, which shows both ends of mutual TLS:
 * who answers, and who the server read from the caller's certificate. Heartbeats and the member
 * table come with discovery.
 */
export function membershipService(identity: () => NodeIdentity, log: Logger): PeerServiceBinding {
  const implementation: MembershipServiceServer = {
    hello: unary(log, 'Hello', (_req, call) => {
      const self = identity();
      const caller = callerOf(call, self.caCertPem);
      return Promise.resolve({
        nodeId: self.nodeId,
        nodeName: self.nodeName,
        clusterId: self.clusterId,
        callerNodeId: caller.nodeId,
      });
    }),
  };
  return { definition: MembershipServiceService, implementation };
}
