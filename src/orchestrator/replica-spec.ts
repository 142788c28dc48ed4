import type { App } from '../bundle/types';
import type { ContainerCreateOptions } from '../runtime/containers';
import { LABEL_APP, LABEL_NODE, LABEL_SPEC, shortId } from './labels';

/** What a replica's container is made of, beside its app. */
export interface ReplicaPlace {
  id: string;
  /** The app's spec hash, as the label that tells current replicas from outdated ones. */
  hash: string;
  imageName: string;
  nodeName: string;
  netnsPath: string;
  logPath: string;
}

/**
 * The container for one replica of `app`: labelled so that containerd alone can tell which app,
 * spec and node it belongs to (re-adoption after an agent restart reads them), hostname the short
 * ID as Docker does, in the network namespace CNI made for it.
 */
export function replicaContainer(app: App, place: ReplicaPlace): ContainerCreateOptions {
  return {
    id: place.id,
    image: place.imageName,
    labels: {
      [LABEL_APP]: app.name,
      [LABEL_SPEC]: place.hash,
      [LABEL_NODE]: place.nodeName,
    },
    hostname: app.hostname ?? shortId(place.id),
    ...(app.entrypoint === undefined ? {} : { entrypoint: app.entrypoint }),
    ...(app.command === undefined ? {} : { command: app.command }),
    ...(app.workdir === undefined ? {} : { workdir: app.workdir }),
    environment: app.environment,
    volumes: app.volumes,
    netnsPath: place.netnsPath,
    logPath: place.logPath,
  };
}
