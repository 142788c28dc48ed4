import { Metadata } from '@grpc/grpc-js';
import { validateApp } from '../bundle';
import { InvalidInputError, UnavailableError } from '../errors';
import {
  ReplicaServiceClient,
  type GetAppResponse,
  type ListReplicasResponse,
  type NodeReplica,
  type StopResponse,
} from '../gen/budgie/peer/v1/peer';
import type { MemberView } from '../membership';
import type { AppCounts } from '../orchestrator/types';
import { peerCall, peerStream, type CallOptions, type PeerChannel } from '../peer';
import type { PeerApp } from './join';
import type { LogChunk, LogsQuery } from './remote-logs';
import { fromReplica } from './replica-wire';
import type { StopOutcome } from './stop';
import type { NodeListing, PlacedReplica } from './types';

/**
 * Far past any LAN node's replicas or apps: a member that sends more is broken or hostile, and
 * its answer must not grow this node's memory or every reader's work without bound.
 */
const MAX_REPLICAS = 10_000;
const MAX_APPS = 1_000;

/** budgie.peer.v1.ReplicaService of one member, in the fleet's own types. */
export class ReplicaClient {
  private readonly client: ReplicaServiceClient;
  private readonly target: string;

  constructor(channel: PeerChannel) {
    this.client = channel.client(ReplicaServiceClient);
    this.target = channel.target;
  }

  /** The member's replica listing (stopped replicas too), checked. */
  async listing(member: MemberView, options: CallOptions = {}): Promise<NodeListing> {
    const res = await peerCall<ListReplicasResponse>(this.target, options, (deadline, done) =>
      this.client.listReplicas({ all: true }, new Metadata(), { deadline }, done),
    );
    return listingOf(res, member);
  }

  /** The member's logs of a replica or app; ends when it ends, or when `signal` aborts. */
  async *logs(query: LogsQuery, signal?: AbortSignal): AsyncGenerator<LogChunk> {
    for await (const res of peerStream(
      this.target,
      this.client.logs(query, new Metadata()),
      signal,
    )) {
      yield { replicaId: res.replicaId, data: res.data };
    }
  }

  /** The app a target (app name, replica ID or prefix) names on the member, with its image. */
  async getApp(target: string, options: CallOptions = {}): Promise<PeerApp> {
    const res = await peerCall<GetAppResponse>(this.target, options, (deadline, done) =>
      this.client.getApp({ target }, new Metadata(), { deadline }, done),
    );
    return peerApp(res, this.target);
  }

  /** Stops an app (name) or one replica (ID or prefix) on the member. */
  async stop(target: string, options: CallOptions = {}): Promise<StopOutcome> {
    const res = await peerCall<StopResponse>(this.target, options, (deadline, done) =>
      this.client.stop({ target }, new Metadata(), { deadline }, done),
    );
    return { ...(res.app === '' ? {} : { app: res.app }), stoppedIds: res.stoppedIds };
  }
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

/** A member's GetApp answer, checked at the edge as any app from outside is. */
function peerApp(res: GetAppResponse, from: string): PeerApp {
  const image = res.image;
  if (image === undefined || image.name === '' || image.digest === '') {
    throw new UnavailableError(`peer ${from}: sent an app without its image`);
  }
  let json: unknown;
  try {
    json = JSON.parse(res.appJson);
  } catch {
    throw new InvalidInputError(`peer ${from}: app_json is not JSON`);
  }
  return { app: validateApp(json), image };
}
