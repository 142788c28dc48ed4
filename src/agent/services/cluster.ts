import {
  ClusterServiceService,
  NodeState,
  type ClusterNode as ClusterNodeMessage,
  type ClusterServiceServer,
} from '../../gen/budgie/v1/cluster';
import { FailedPreconditionError, InvalidInputError } from '../../errors';
import type { Logger } from '../../log';
import type { ClusterNode, MemberState, NodeRow } from '../../membership';
import type { ServiceBinding } from '../../rpc/handlers';
import { unary } from '../../rpc/handlers';

const STATE: Record<MemberState, NodeState> = {
  alive: NodeState.NODE_STATE_ALIVE,
  suspect: NodeState.NODE_STATE_SUSPECT,
  dead: NodeState.NODE_STATE_DEAD,
};

/** Replicas starting or running on a node (this one, or a member as last heard); undefined: unknown. */
export type ContainerCount = (row: NodeRow) => number | undefined;

/** budgie.v1.ClusterService: the local API's door to this node's membership. */
export function clusterService(
  cluster: ClusterNode,
  log: Logger,
  containers: ContainerCount = () => undefined,
): ServiceBinding {
  const implementation: ClusterServiceServer = {
    init: unary(log, 'Init', async () => {
      const { token, identity, address } = await cluster.init();
      return { token, clusterId: identity.clusterId, nodeId: identity.nodeId, address };
    }),
    token: unary(log, 'Token', async (req) => {
      const { token, expiresAtMs } = await cluster.token(
        req.rotate,
        req.ttlMs === 0 ? undefined : req.ttlMs,
      );
      return { token, expiresUnixMs: expiresAtMs ?? 0 };
    }),
    join: unary(log, 'Join', async (req, signal) => {
      const { identity, peer } = await cluster.join(req.token, req.peer.trim(), signal);
      return { clusterId: identity.clusterId, nodeId: identity.nodeId, peer };
    }),
    // Through a promise: the adapter expects one, so a refusal must not throw synchronously.
    nodes: unary(log, 'Nodes', () =>
      Promise.resolve().then(() => {
        const nodes = cluster.nodes();
        if (nodes === undefined) {
          // The same message as every other members-only request.
          cluster.requireMember();
          throw new FailedPreconditionError('this node is not in a cluster');
        }
        return {
          clusterId: nodes.clusterId,
          nodes: nodes.rows.map((row) => toMessage(row, containers(row))),
        };
      }),
    ),
    leave: unary(log, 'Leave', async (req) => ({ membersTold: await cluster.leave(req.force) })),
    remove: unary(log, 'Remove', async (req) => {
      if (req.node.trim() === '') {
        throw new InvalidInputError(
          "node: expected a node id or name, as 'budgie cluster nodes' lists",
        );
      }
      return { nodeId: await cluster.remove(req.node.trim()) };
    }),
  };
  return { definition: ClusterServiceService, implementation };
}

function toMessage(row: NodeRow, containers: number | undefined): ClusterNodeMessage {
  return {
    ...(containers === undefined ? {} : { containers }),
    nodeId: row.nodeId,
    name: row.name,
    address: row.address,
    state: STATE[row.state],
    lastSeenUnixMs: row.lastSeenMs ?? 0,
    self: row.self,
  };
}
