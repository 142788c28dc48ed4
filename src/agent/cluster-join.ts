import { validateApp } from '../bundle';
import type { App } from '../bundle/types';
import {
  chirp,
  DEFAULT_CHIRP_TIMEOUT_MS,
  type ChirpSources,
  type JoinPeer,
  type JoinSources,
  type PeerApp,
} from '../chirp';
import type { PeerClient } from '../cluster';
import { systemClock } from '../discovery';
import { InvalidInputError, UnavailableError } from '../errors';
import type { GetAppResponse } from '../gen/budgie/peer/v1/peer';
import type { ClusterNode } from '../membership';
import type { Orchestrator } from '../orchestrator';
import type { BlobProvider, ImageStore } from '../runtime/images';

/** GetApp for members: the app a target names here, and the image record its replicas run. */
export async function localApp(
  orchestrator: Orchestrator,
  images: ImageStore,
  target: string,
  signal: AbortSignal,
): Promise<GetAppResponse> {
  const { app, imageName } = orchestrator.appOf(target);
  const image = await images.target(imageName, signal);
  return { appJson: JSON.stringify(app), image };
}

/** `budgie chirp ID`'s view of the cluster, this node's orchestrator and its image store. */
export function joinSources(
  orchestrator: Orchestrator,
  images: ImageStore,
  cluster: ClusterNode,
  chirpSources: ChirpSources,
): JoinSources {
  const selfNodeId = (): string | undefined => cluster.nodes()?.rows.find((r) => r.self)?.nodeId;
  return {
    chirp: (signal) =>
      chirp(chirpSources, systemClock, {
        all: false,
        timeoutMs: DEFAULT_CHIRP_TIMEOUT_MS,
        signal,
      }),
    selfNodeId,
    addressOf: (nodeId) => cluster.nodes()?.rows.find((r) => r.nodeId === nodeId)?.address,
    runsHere: (app) => orchestrator.replicaLimits(app) !== undefined,
    getApp: (peer, target, signal) =>
      withPeer(cluster, peer, async (client) =>
        peerApp(await client.getApp(target, { signal }), peer),
      ),
    fetchImage: (peer, image, signal, onEvent) =>
      withPeer(cluster, peer, async (client) => {
        const provider: BlobProvider = {
          open: (digest, offset, readSignal) => client.readBlob(digest, offset, readSignal),
        };
        return (await images.fetch(image, provider, { signal, onEvent })).name;
      }),
    run: async (app: App, signal) => {
      const result = await orchestrator.run(app, {
        detach: false,
        signal,
        onEvent: () => undefined,
      });
      return result.replicaIds;
    },
  };
}

async function withPeer<T>(
  cluster: ClusterNode,
  peer: JoinPeer,
  fn: (client: PeerClient) => Promise<T>,
): Promise<T> {
  const client = cluster.dial(peer.address, peer.nodeId);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** A member's GetApp answer, checked at the edge as any app from outside is. */
function peerApp(res: GetAppResponse, peer: JoinPeer): PeerApp {
  const image = res.image;
  if (image === undefined || image.name === '' || image.digest === '') {
    throw new UnavailableError(`peer ${peer.nodeName}: sent an app without its image`);
  }
  let json: unknown;
  try {
    json = JSON.parse(res.appJson);
  } catch {
    throw new InvalidInputError(`peer ${peer.nodeName}: app_json is not JSON`);
  }
  return { app: validateApp(json), image };
}
