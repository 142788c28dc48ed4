import {
  ReplicaServiceService,
  type LogsRequest,
  type LogsResponse,
  type NodeReplica,
  type ReplicaServiceServer,
} from '../gen/budgie/peer/v1/peer';
import type { Logger } from '../log';
import { serverStream, unary, type PeerServiceBinding } from './handlers';
import type { NodeIdentity } from './identity';
import { callerOf } from './peer-auth';

/** What this node's replicas look like to members; the agent builds it from the orchestrator. */
export interface ReplicaSource {
  list(all: boolean): NodeReplica[];
  /** Streams logs as the local Logs RPC does; NotFoundError when the target is not here. */
  logs(
    req: LogsRequest,
    send: (res: LogsResponse) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void>;
}

/**
 * budgie.peer.v1.ReplicaService: members read this node's replicas and logs. The server's
 * interceptor already refuses non-members; `callerOf` here is the second lock, so a handler never
 * runs for a caller it cannot name.
 */
export function replicaService(
  identity: () => NodeIdentity,
  source: ReplicaSource,
  log: Logger,
): PeerServiceBinding {
  const implementation: ReplicaServiceServer = {
    listReplicas: unary(log, 'ListReplicas', (req, call) => {
      const self = identity();
      callerOf(call, self.caCertPem);
      return Promise.resolve({
        nodeId: self.nodeId,
        nodeName: self.nodeName,
        replicas: source.list(req.all),
      });
    }),
    logs: serverStream(log, 'Logs', async (req, send, signal, call) => {
      callerOf(call, identity().caCertPem);
      await source.logs(req, send, signal);
    }),
  };
  return { definition: ReplicaServiceService, implementation };
}
