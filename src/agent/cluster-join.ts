import { join } from 'node:path';
import { validateApp } from '../bundle';
import type { App } from '../bundle/types';
import {
  chirp,
  DEFAULT_CHIRP_TIMEOUT_MS,
  type ChirpSources,
  type JoinPeer,
  type JoinSources,
  type PeerApp,
} from '../fleet';
import type { PeerClient } from '../peer';
import { systemClock } from '../discovery';
import {
  FailedPreconditionError,
  InvalidInputError,
  NotFoundError,
  UnavailableError,
} from '../errors';
import type { GetAppResponse } from '../gen/budgie/peer/v1/peer';
import type { ClusterNode } from '../membership';
import type { Orchestrator } from '../orchestrator';
import type { BlobProvider, ImageStore } from '../runtime/images';
import { SnapshotWriter } from '../volumes';

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
  const dial = (peer: JoinPeer): PeerClient => cluster.dial(peer.address, peer.nodeId);
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
    getApp: async (peer, target, signal) =>
      peerApp(await dial(peer).getApp(target, { signal }), peer),
    fetchImage: async (peer, image, signal, onEvent) => {
      const client = dial(peer);
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
        for await (const message of dial(peer).snapshotVolume(app, target, signal)) {
          await writer.write(message);
          if (message.item?.$case === 'data' || message.item?.value.size === 0) {
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
