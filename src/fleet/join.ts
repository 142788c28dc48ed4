import type { App } from '../bundle/types';
import { FailedPreconditionError, InvalidInputError } from '../errors';
import type { ImageEvent, ImageTarget } from '../runtime/images';
import { pick } from './remote-logs';
import type { ChirpResult, PlacedReplica } from './types';

/** An app as a member runs it: the normalised app (validated on receipt) and its image. */
export interface PeerApp {
  app: App;
  image: ImageTarget;
}

/** The member a join takes the app and its image from. */
export interface JoinPeer {
  nodeId: string;
  nodeName: string;
  address: string;
}

/** What a join needs from the agent; the agent wires the real ones, unit tests fakes. */
export interface JoinSources {
  /** The cluster's running replicas; FailedPrecondition-worthy when this node is in no cluster. */
  chirp(signal: AbortSignal): Promise<ChirpResult>;
  selfNodeId(): string | undefined;
  /** HOST:PORT of a member's peer API; undefined when it is no longer known. */
  addressOf(nodeId: string): string | undefined;
  /** Whether this node already has the app (a second replica here is `budgie scale`'s job). */
  runsHere(app: string): boolean;
  getApp(peer: JoinPeer, target: string, signal: AbortSignal): Promise<PeerApp>;
  /** Stores the image from the peer's blobs (those missing here); returns its stored name. */
  fetchImage(
    peer: JoinPeer,
    image: ImageTarget,
    signal: AbortSignal,
    onEvent: (event: ImageEvent) => void,
  ): Promise<string>;
  /**
   * Where this node keeps a joined app's rw volume number `index` (its own state dir: the peer's
   * path may not exist here, or hold something else).
   */
  volumeDir(app: string, index: number): string;
  /**
   * Copies the peer's rw volume at `target` of `app` into `dest`: the first round of the sync
   * that keeps it the same from then on (see src/sync).
   */
  copyVolume(
    peer: JoinPeer,
    app: string,
    target: string,
    dest: string,
    signal: AbortSignal,
    onEvent: (event: VolumeCopyEvent) => void,
  ): Promise<VolumeCopyStats>;
  /**
   * Runs the app on this node until its replica is ready; returns the replica IDs. `clusterMin`
   * is the peer's replicas.min, which the cluster keeps (the app here has its own min of 1).
   */
  run(app: App, clusterMin: number, signal: AbortSignal): Promise<string[]>;
}

export interface VolumeCopyStats {
  files: number;
  bytes: number;
}

export type VolumeCopyEvent =
  { type: 'opened'; hadData: boolean } | { type: 'progress'; stats: VolumeCopyStats };

/** Progress lines of a volume copy at most this often; the last one always. */
export const VOLUME_PROGRESS_MS = 500;

export type JoinEvent =
  { type: 'phase'; text: string } | { type: 'blobs'; done: number; total: number };

export interface JoinResult {
  app: string;
  replicaId: string;
  peerNode: string;
}

/**
 * `budgie chirp ID`: joins the app that a replica ID (or prefix) or app name on another member
 * names, as one replica on this node. The app and its image come from the member that runs the
 * named replica (no registry); refused when the cluster already runs replicas.max of it.
 */
export async function joinApp(
  sources: JoinSources,
  target: string,
  signal: AbortSignal,
  onEvent: (event: JoinEvent) => void,
  volumeMap: ReadonlyMap<string, string> = new Map(),
): Promise<JoinResult> {
  onEvent({ type: 'phase', text: `finding ${target} in the cluster` });
  const result = await sources.chirp(signal);
  if (!result.clustered) {
    throw new FailedPreconditionError(
      `this node is in no cluster, so it has no peer to join ${target} from (see 'budgie cluster join')`,
    );
  }
  const self = sources.selfNodeId();
  const [chosen] = preferHealthy(
    pick(
      result.replicas.filter((r) => r.nodeId !== self),
      target,
      result,
    ),
  );
  // pick() throws NotFound rather than return nothing; this only satisfies the type checker.
  if (chosen === undefined) throw new FailedPreconditionError(`no replica of ${target} to join`);
  const appName = chosen.replica.app;
  // Counted from the chirp, before anything moves: past max is refused wherever it is asked.
  const running = countRunning(result.replicas, appName);
  refuseAtMax(appName, running, chosen.replicasMax);
  if (sources.runsHere(appName)) {
    throw new FailedPreconditionError(
      `app ${appName} already runs on this node: add replicas with 'budgie scale ${appName} N'`,
    );
  }
  const address = sources.addressOf(chosen.nodeId);
  if (address === undefined) {
    throw new FailedPreconditionError(
      `replica ${chosen.replica.id.slice(0, 12)}: its node ${chosen.replica.node} is no longer a known member`,
    );
  }
  const peer: JoinPeer = { nodeId: chosen.nodeId, nodeName: chosen.replica.node, address };
  onEvent({ type: 'phase', text: `fetching app ${appName} from ${peer.nodeName}` });
  const { app, image } = await sources.getApp(peer, chosen.replica.id, signal);
  // The app itself is the authority on max (a listing may predate an update of the app).
  refuseAtMax(appName, running, app.replicas.max);
  const hostPaths = roSources(app, volumeMap);
  for (const [volumeTarget, source] of hostPaths) {
    onEvent({
      type: 'phase',
      text: `mounting ${source} of this machine read-only at ${volumeTarget} (--volume-map)`,
    });
  }
  onEvent({ type: 'phase', text: `fetching image ${image.name} from ${peer.nodeName}` });
  const blobs = new BlobCounter(onEvent);
  const storedName = await sources.fetchImage(peer, image, signal, (event) => {
    blobs.update(event);
  });
  const volumes = await copyVolumes(sources, peer, app, hostPaths, signal, onEvent);
  onEvent({ type: 'phase', text: `starting ${appName} on this node` });
  const [replicaId] = await sources.run(
    localCopy(app, storedName, volumes),
    app.replicas.min,
    signal,
  );
  if (replicaId === undefined) {
    throw new FailedPreconditionError(`app ${appName} started no replica on this node`);
  }
  return { app: appName, replicaId, peerNode: peer.nodeName };
}

/**
 * The app as this node runs it: the image by the name it is now stored under here (the peer's
 * archive path or registry may not exist from here), and one replica here. replicas.min is this
 * node's own floor, so it becomes 1: the peer's min is the cluster's, kept by src/placement; max
 * is the cluster's.
 */
export function localCopy(app: App, imageName: string, volumes = app.volumes): App {
  return {
    ...app,
    image: { kind: 'registry', reference: imageName },
    volumes,
    replicas: { min: 1, max: app.replicas.max },
  };
}

/**
 * Where each ro volume of a member's app comes from here: only what this node's admin said
 * (`--volume-map TARGET=HOSTPATH`), never the member's `source`, which a hostile member could
 * point at this node's state dir (and its CA key) or at `/`. Every ro volume needs a mapping, and
 * every mapping an ro volume.
 */
function roSources(app: App, volumeMap: ReadonlyMap<string, string>): Map<string, string> {
  const ro = app.volumes.filter((v) => v.mode === 'ro').map((v) => v.target);
  for (const target of volumeMap.keys()) {
    if (!ro.includes(target)) {
      throw new InvalidInputError(
        `--volume-map ${target}: app ${app.name} has no ro volume there (its ro volumes: ${ro.join(', ') || 'none'})`,
      );
    }
  }
  const missing = ro.filter((target) => !volumeMap.has(target));
  if (missing.length > 0) {
    throw new FailedPreconditionError(
      `app ${app.name} mounts host paths of its node read-only at ${missing.join(', ')}; an app from a member never names host paths here: say which of this machine's with --volume-map ${missing[0] ?? ''}=HOSTPATH for each`,
    );
  }
  return new Map(ro.map((target) => [target, volumeMap.get(target) ?? '']));
}

/**
 * Each rw volume from the peer, into this node's own directory for it, as the first round of the
 * sync that follows; each ro volume from the host path this node's admin mapped it to (`ro`);
 * the app's volumes as this node mounts them.
 */
async function copyVolumes(
  sources: JoinSources,
  peer: JoinPeer,
  app: App,
  ro: ReadonlyMap<string, string>,
  signal: AbortSignal,
  onEvent: (event: JoinEvent) => void,
): Promise<App['volumes']> {
  const out: App['volumes'] = [];
  for (const [index, volume] of app.volumes.entries()) {
    if (volume.mode !== 'rw') {
      out.push({ ...volume, source: ro.get(volume.target) ?? '' });
      continue;
    }
    const dest = sources.volumeDir(app.name, index);
    const line = (s: VolumeCopyStats): string =>
      `copying volume ${volume.target}: ${s.files} files, ${s.bytes} bytes`;
    let last = 0;
    const stats = await sources.copyVolume(peer, app.name, volume.target, dest, signal, (event) => {
      if (event.type === 'opened') {
        onEvent({
          type: 'phase',
          text: event.hadData
            ? `copying volume ${volume.target} from ${peer.nodeName} over the data already in ${dest} (a sync round: newer versions win, concurrent changes keep both)`
            : `copying volume ${volume.target} from ${peer.nodeName} into ${dest}`,
        });
        return;
      }
      const now = Date.now();
      // A line per half second at most, and none before the first file (dirs come first).
      if (now - last < VOLUME_PROGRESS_MS || event.stats.files === 0) return;
      last = now;
      onEvent({ type: 'phase', text: line(event.stats) });
    });
    onEvent({ type: 'phase', text: line(stats) });
    out.push({ ...volume, source: dest });
  }
  return out;
}

function refuseAtMax(app: string, running: number, max: number): void {
  if (running < max) return;
  throw new FailedPreconditionError(
    `app ${app} already runs ${running} replica(s) in the cluster, its replicas.max of ${max}: not joining`,
  );
}

/** Replicas of `app` that run or start anywhere: exited ones do not count against max. */
export function countRunning(replicas: readonly PlacedReplica[], app: string): number {
  return replicas.filter((r) => r.replica.app === app && r.replica.state !== 'exited').length;
}

/** Running replicas first: the member that runs one well is the best to copy from. */
function preferHealthy(replicas: PlacedReplica[]): PlacedReplica[] {
  const rank = (r: PlacedReplica): number => (r.replica.state === 'running' ? 0 : 1);
  return [...replicas].sort((a, b) => rank(a) - rank(b));
}

/** Layer events as "blobs n/m": one line per blob that becomes present, not per chunk. */
class BlobCounter {
  private readonly all = new Set<string>();
  private readonly present = new Set<string>();

  constructor(private readonly onEvent: (event: JoinEvent) => void) {}

  update(event: ImageEvent): void {
    if (event.type !== 'layer') return;
    const before = { all: this.all.size, present: this.present.size };
    this.all.add(event.digest);
    if (event.state === 'exists' || event.state === 'downloaded' || event.state === 'unpacked') {
      this.present.add(event.digest);
    }
    if (before.all !== this.all.size || before.present !== this.present.size) {
      this.onEvent({ type: 'blobs', done: this.present.size, total: this.all.size });
    }
  }
}
