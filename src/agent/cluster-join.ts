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
import { FailedPreconditionError, NotFoundError } from '../errors';
import { BlobClient } from '../images';
import type { ClusterNode } from '../membership';
import type { Orchestrator } from '../orchestrator';
import type { BlobProvider, ImageContent, ImageStore } from '../runtime/images';
import { SnapshotWriter, VolumeClient } from '../volumes';

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

/**
 * VolumeService's view of this node: the source of an rw volume an app running here declares.
 * ro volumes are refused, not just skipped, so a caller cannot read host data through them.
 */
export function rwVolumeSource(orchestrator: Orchestrator, app: string, target: string): string {
  const volume = orchestrator.appOf(app).app.volumes.find((v) => v.target === target);
  if (volume === undefined) {
    throw new NotFoundError(`app ${app} has no volume at ${target} on this node`);
  }
  if (volume.mode !== 'rw') {
    throw new FailedPreconditionError(`app ${app}'s volume at ${target} is ro: it is not copied`);
  }
  return volume.source;
}

/** `budgie chirp ID`'s view of the cluster, this node's orchestrator and its image store. */
export function joinSources(
  orchestrator: Orchestrator,
  images: ImageStore,
  cluster: ClusterNode,
  chirpSources: ChirpSources,
  stateDir: string,
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
      const { writer, hadData } = await SnapshotWriter.open(dest);
      onEvent({ type: 'opened', hadData });
      try {
        for await (const item of new VolumeClient(dial(peer)).snapshot(app, target, signal)) {
          await writer.write(item);
          if ('data' in item || item.entry.size === 0) {
            onEvent({ type: 'progress', stats: writer.stats });
          }
        }
        return await writer.finish();
      } finally {
        await writer.close();
      }
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
