import type {
  ChirpSources,
  LogChunk,
  NodeListing,
  PlacedReplica,
  RemoteLogSources,
  StopSources,
} from './index';
import { chirp, DEFAULT_CHIRP_TIMEOUT_MS } from './index';
import type { ReplicaSource } from './replica-service';
import { systemClock } from '../discovery';
import { UnavailableError } from '../errors';
import type { ListReplicasResponse } from '../gen/budgie/peer/v1/peer';
import type { ClusterNode } from '../membership';
import type { Orchestrator } from '../orchestrator';
import type { ReplicaView } from '../orchestrator/types';
import type { KeeperSources } from '../placement';
import type { ImageStore } from '../runtime/images';
import { localApp } from '../agent/cluster-join';
import { toReplica } from '../agent/services/apps';
import { streamLocalLogs } from '../agent/services/log-stream';

/** Where peers reach this node's published ports: the publish address, or when that is every
 * interface, the address this node advertises to the cluster. */
export interface ReplicaHost {
  nodeName: string;
  publishAddress: string;
  advertise: string;
  /** The replica's direct endpoints for members' balancing; none when not given. */
  direct?: (view: ReplicaView) => string[];
}

/** This node's replicas as the cluster sees them (the peer ReplicaService's source). */
export function localReplicaSource(
  orchestrator: () => Orchestrator,
  images: () => ImageStore,
  host: ReplicaHost,
): ReplicaSource {
  return {
    list: (all) => placedHere(orchestrator(), host, all, ''),
    counts: () => orchestrator().counts(),
    stop: async (target) => {
      const result = await orchestrator().stop(target);
      return { stoppedIds: result.stoppedIds, app: result.app ?? '' };
    },
    logs: (req, send, signal) => streamLocalLogs(orchestrator(), req, send, signal),
    getApp: (target, signal) => localApp(orchestrator(), images(), target, signal),
  };
}

/** A chirp's view of this node and its members over the peer API. */
export function chirpSources(
  orchestrator: Orchestrator,
  cluster: ClusterNode,
  host: ReplicaHost,
): ChirpSources {
  return {
    self: (all): NodeListing => {
      const nodeId = cluster.selfNodeId() ?? '';
      return {
        nodeId,
        nodeName: host.nodeName,
        replicas: placedHere(orchestrator, host, all, nodeId),
      };
    },
    members: () => cluster.nodes()?.rows.filter((r) => !r.self),
    ask: async (member, all, signal) => {
      const client = cluster.dial(member.address, member.nodeId);
      // The chirp's own timer bounds the call; this deadline only backs it up.
      const res = await client.listReplicas({ all, signal, timeoutMs: 60_000 });
      return fromPeer(res, member.nodeId, member.address);
    },
  };
}

/** `budgie stop`'s reach: this node's orchestrator and the members over the peer API. */
export function stopSources(
  orchestrator: Orchestrator,
  cluster: ClusterNode,
  host: ReplicaHost,
): StopSources {
  const sources = chirpSources(orchestrator, cluster, host);
  return {
    chirp: (signal) =>
      chirp(sources, systemClock, { all: true, timeoutMs: DEFAULT_CHIRP_TIMEOUT_MS, signal }),
    selfNodeId: () => cluster.selfNodeId(),
    runsHere: (app) => orchestrator.replicaLimits(app) !== undefined,
    stopHere: (target) => orchestrator.stop(target),
    addressOf: (nodeId) => cluster.addressOf(nodeId),
    stopOn: async (nodeId, address, target, signal) => {
      const res = await cluster.dial(address, nodeId).stop(target, { signal, timeoutMs: 60_000 });
      return { ...(res.app === '' ? {} : { app: res.app }), stoppedIds: res.stoppedIds };
    },
  };
}

/** What the replica keeper reads and changes: members' app counts and this node's stand-ins. */
export function keeperSources(orchestrator: Orchestrator, cluster: ClusterNode): KeeperSources {
  return {
    members: () => cluster.nodes()?.rows,
    ask: async (member, signal) => {
      const client = cluster.dial(member.address, member.nodeId);
      // The keeper's own timer bounds the call; this deadline only backs it up.
      return (await client.listReplicas({ all: false, signal, timeoutMs: 10_000 })).apps;
    },
    local: () => orchestrator.counts(),
    setStandIns: (app, n) => orchestrator.setStandIns(app, n),
  };
}

/** Logs of replicas on other members, found by a chirp and read over the peer API. */
export function remoteLogSources(
  orchestrator: Orchestrator,
  cluster: ClusterNode,
  host: ReplicaHost,
): RemoteLogSources {
  const sources = chirpSources(orchestrator, cluster, host);
  return {
    chirp: () => chirp(sources, systemClock, { all: true, timeoutMs: DEFAULT_CHIRP_TIMEOUT_MS }),
    selfNodeId: () => cluster.selfNodeId(),
    addressOf: (nodeId) => cluster.addressOf(nodeId),
    open: (address, nodeId, req, signal) => peerLogs(cluster, address, nodeId, req, signal),
  };
}

async function* peerLogs(
  cluster: ClusterNode,
  address: string,
  nodeId: string,
  req: { target: string; follow: boolean; tail: number; sinceUnixMs: number },
  signal: AbortSignal,
): AsyncGenerator<LogChunk> {
  yield* cluster.dial(address, nodeId).logs(req, signal);
}

function placedHere(
  orchestrator: Orchestrator,
  host: ReplicaHost,
  all: boolean,
  nodeId: string,
): (PlacedReplica & { direct: string[] })[] {
  const reachAt = host.publishAddress === '0.0.0.0' ? host.advertise : host.publishAddress;
  // The cluster's min, not this node's own floor (1 on a node that joined the app).
  const counts = new Map(orchestrator.counts().map((c) => [c.app, c]));
  return orchestrator.list(all).map((view: ReplicaView) => {
    const limits = counts.get(view.app);
    return {
      replica: toReplica(view),
      nodeId,
      addresses: view.ports.map(
        (p) => `${reachAt}:${p.hostPort}${p.protocol === 'udp' ? '/udp' : ''}`,
      ),
      replicasMin: limits?.clusterMin ?? 0,
      replicasMax: limits?.max ?? 0,
      direct: host.direct?.(view) ?? [],
    };
  });
}

/** A member's answer, checked at the edge: every replica must carry its fields. */
function fromPeer(res: ListReplicasResponse, nodeId: string, address: string): NodeListing {
  const replicas = res.replicas.map((r): PlacedReplica => {
    if (r.replica === undefined) {
      throw new UnavailableError(`peer ${address}: sent a replica without its fields`);
    }
    return {
      replica: { ...r.replica, node: res.nodeName },
      nodeId,
      addresses: r.addresses,
      replicasMin: r.replicasMin,
      replicasMax: r.replicasMax,
      direct: r.direct,
    };
  });
  return { nodeId, nodeName: res.nodeName, replicas };
}
