import { UnavailableError } from '../errors';
import type { ListReplicasResponse, NodeReplica } from '../gen/budgie/peer/v1/peer';
import type { MemberView } from '../membership';
import type { AppCounts } from '../orchestrator/types';
import type { PeerClient } from '../peer';
import { fromReplica } from './replica-message';
import type { NodeListing, PlacedReplica } from './types';

/**
 * Far past any LAN node's replicas or apps: a member that sends more is broken or hostile, and
 * its answer must not grow this node's memory or every reader's work without bound.
 */
const MAX_REPLICAS = 10_000;
const MAX_APPS = 1_000;

/** A member's replica listing (stopped replicas too), checked and in the fleet's own types. */
export async function askListing(
  client: PeerClient,
  member: MemberView,
  signal: AbortSignal,
): Promise<NodeListing> {
  // The fleet's own timer bounds the call; this deadline only backs it up.
  const res = await client.listReplicas({ all: true, signal, timeoutMs: 60_000 });
  return listingOf(res, member);
}

/** The wire answer checked at the edge: bounded, every replica with its fields. */
export function listingOf(res: ListReplicasResponse, member: MemberView): NodeListing {
  const from = member.address;
  if (res.replicas.length > MAX_REPLICAS || res.apps.length > MAX_APPS) {
    throw new UnavailableError(
      `peer ${from}: sent ${res.replicas.length} replicas and ${res.apps.length} apps, past the limits of ${MAX_REPLICAS} and ${MAX_APPS}`,
    );
  }
  const replicas = res.replicas.map((r) => placedOf(r, res.nodeName, member.nodeId, from));
  const apps = res.apps.map((a): AppCounts => ({
    app: a.app,
    scale: a.scale,
    standIns: a.standIns,
    clusterMin: a.clusterMin,
    max: a.max,
    live: a.live,
  }));
  return { nodeId: member.nodeId, nodeName: res.nodeName, replicas, apps };
}

function placedOf(r: NodeReplica, node: string, nodeId: string, from: string): PlacedReplica {
  if (r.replica === undefined) {
    throw new UnavailableError(`peer ${from}: sent a replica without its fields`);
  }
  return {
    replica: fromReplica(r.replica, node, from),
    nodeId,
    addresses: r.addresses,
    replicasMin: r.replicasMin,
    replicasMax: r.replicasMax,
    direct: r.direct,
  };
}
