import { systemClock } from '../discovery';
import {
  chirp,
  ReplicaClient,
  DEFAULT_CHIRP_TIMEOUT_MS,
  type ChirpSources,
  type ClusterReplica,
  type Fleet,
  type FleetSources,
  type LogChunk,
  type NodeListing,
  type PlacedReplica,
  type RemoteLogSources,
  type ReplicaSource,
  type StopSources,
} from '../fleet';
import type { ClusterNode } from '../membership';
import type { Orchestrator } from '../orchestrator';
import type { ReplicaView } from '../orchestrator/types';
import type { KeeperSources } from '../placement';
import type { ImageContent } from '../runtime/images';
import { localApp } from './cluster-join';
import { streamLocalLogs } from './services/log-stream';

/** Where peers reach this node's published ports: the publish address, or when that is every
 * interface, the address this node advertises to the cluster. */
export interface ReplicaHost {
  nodeName: string;
  publishAddress: string;
  advertise: string;
  /** The replica's direct endpoints for members' balancing; none when not given. */
  direct?: (view: ReplicaView) => string[];
}

/** How the fleet reaches the members: the membership table, and each member's ReplicaService. */
export function fleetSources(cluster: ClusterNode): FleetSources {
  return {
    members: () => cluster.nodes()?.rows,
    // The fleet's own timer bounds the call; this deadline only backs it up.
    ask: (member, signal) =>
      new ReplicaClient(cluster.dial(member.address, member.nodeId)).listing(member, {
        signal,
        timeoutMs: 60_000,
      }),
  };
}

/** This node's replicas as the cluster sees them (the peer ReplicaService's source). */
export function localReplicaSource(
  orchestrator: () => Orchestrator,
  images: () => Pick<ImageContent, 'target'>,
  host: ReplicaHost,
  joining: (caller: string, app: string) => void,
): ReplicaSource {
  return {
    list: (all) => placedHere(orchestrator(), host, all, ''),
    counts: () => orchestrator().counts(),
    stop: (target) => orchestrator().stop(target),
    logs: (req, send, signal) => streamLocalLogs(orchestrator(), req, send, signal),
    getApp: async (target, caller, signal) => {
      const given = await localApp(orchestrator(), images(), target, signal);
      joining(caller, given.app.name);
      return given;
    },
  };
}

/** A chirp's view: this node's own replicas, and the fleet for the members'. */
export function chirpSources(
  orchestrator: Orchestrator,
  cluster: ClusterNode,
  fleet: Fleet,
  host: ReplicaHost,
): ChirpSources {
  return {
    self: (): NodeListing => {
      const nodeId = cluster.selfNodeId() ?? '';
      return {
        nodeId,
        nodeName: host.nodeName,
        replicas: placedHere(orchestrator, host, true, nodeId),
        apps: orchestrator.counts(),
      };
    },
    fleet,
  };
}

/** `budgie stop`'s reach: this node's orchestrator and the members over the peer API. */
export function stopSources(
  orchestrator: Orchestrator,
  cluster: ClusterNode,
  chirps: ChirpSources,
): StopSources {
  return {
    chirp: (signal) =>
      chirp(chirps, systemClock, { all: true, timeoutMs: DEFAULT_CHIRP_TIMEOUT_MS, signal }),
    selfNodeId: () => cluster.selfNodeId(),
    runsHere: (app) => orchestrator.replicaLimits(app) !== undefined,
    stopHere: (target) => orchestrator.stop(target),
    addressOf: (nodeId) => cluster.addressOf(nodeId),
    stopOn: (nodeId, address, target, signal) =>
      new ReplicaClient(cluster.dial(address, nodeId)).stop(target, { signal, timeoutMs: 60_000 }),
  };
}

/** What the replica keeper reads and changes: the fleet, and this node's counts and stand-ins. */
export function keeperSources(orchestrator: Orchestrator, fleet: Fleet): KeeperSources {
  return {
    fleet,
    local: () => orchestrator.counts(),
    setStandIns: (app, n) => orchestrator.setStandIns(app, n),
  };
}

/** Logs of replicas on other members, found by a chirp and read over the peer API. */
export function remoteLogSources(cluster: ClusterNode, chirps: ChirpSources): RemoteLogSources {
  return {
    chirp: () => chirp(chirps, systemClock, { all: true, timeoutMs: DEFAULT_CHIRP_TIMEOUT_MS }),
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
  yield* new ReplicaClient(cluster.dial(address, nodeId)).logs(req, signal);
}

function placedHere(
  orchestrator: Orchestrator,
  host: ReplicaHost,
  all: boolean,
  nodeId: string,
): PlacedReplica[] {
  const reachAt = host.publishAddress === '0.0.0.0' ? host.advertise : host.publishAddress;
  // The cluster's min, not this node's own floor (1 on a node that joined the app).
  const counts = new Map(orchestrator.counts().map((c) => [c.app, c]));
  return orchestrator.list(all).map((view: ReplicaView) => {
    const limits = counts.get(view.app);
    return {
      replica: clusterReplica(view),
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

/** What members see of a replica: everything but this node's own log path. */
function clusterReplica(view: ReplicaView): ClusterReplica {
  const { logPath, ...shown } = view;
  return shown;
}
