import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { App } from '../bundle/types';
import {
  chirp,
  DEFAULT_CHIRP_TIMEOUT_MS,
  type ChirpSources,
  type JoinPeer,
  type JoinSources,
  type PeerApp,
  ReplicaClient,
} from '../fleet';
import { systemClock } from '../discovery';
import { BlobClient } from '../images';
import type { ClusterNode } from '../membership';
import type { Orchestrator } from '../orchestrator';
import type { BlobProvider, ImageContent, ImageStore } from '../runtime/images';
import type { SyncEngine } from '../sync';

/** GetApp for members: the app a target names here, and the image record its replicas run. */
export async function localApp(
  orchestrator: Orchestrator,
  images: Pick<ImageContent, 'target'>,
  target: string,
  signal: AbortSignal,
): Promise<PeerApp> {
  const { app, imageName } = orchestrator.appOf(target);
  return { app, image: await images.target(imageName, signal) };
}

/** `budgie chirp ID`'s view of the cluster, this node's orchestrator and its image store. */
export function joinSources(
  orchestrator: Orchestrator,
  images: ImageStore,
  cluster: ClusterNode,
  chirpSources: ChirpSources,
  stateDir: string,
  sync: SyncEngine,
): JoinSources {
  const dial = (peer: JoinPeer) => cluster.dial(peer.address, peer.nodeId);
  return {
    chirp: (signal) =>
      chirp(chirpSources, systemClock, {
        all: false,
        timeoutMs: DEFAULT_CHIRP_TIMEOUT_MS,
        signal,
      }),
    selfNodeId: () => cluster.selfNodeId(),
    addressOf: (nodeId) => cluster.addressOf(nodeId),
    runsHere: (app) => orchestrator.replicaLimits(app) !== undefined,
    getApp: (peer, target, signal) => new ReplicaClient(dial(peer)).getApp(target, { signal }),
    fetchImage: async (peer, image, signal, onEvent) => {
      const client = new BlobClient(dial(peer));
      const provider: BlobProvider = {
        open: (digest, offset, readSignal) => client.readBlob(digest, offset, readSignal),
      };
      return (await images.fetch(image, provider, { signal, onEvent })).name;
    },
    volumeDir: (app, index) => join(stateDir, 'volumes', app, String(index)),
    copyVolume: async (peer, app, target, dest, signal, onEvent) => {
      const existing = await readdir(dest).catch(() => []);
      onEvent({ type: 'opened', hadData: existing.length > 0 });
      return sync.firstRound(
        { app, target, dir: dest },
        { nodeId: peer.nodeId, address: peer.address },
        signal,
        (stats) => {
          onEvent({ type: 'progress', stats });
        },
      );
    },
    run: async (app: App, clusterMin, signal) => {
      const result = await orchestrator.run(app, {
        detach: false,
        clusterMin,
        signal,
        onEvent: () => undefined,
      });
      return result.replicaIds;
    },
  };
}
