import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentConfig } from '../config/agent-config';
import { ContainerdBackend } from '../containerd';
import { createLogger } from '../log';
import { version } from '../version';
import { ApiServer } from './api-server';
import { HealthMonitor } from '../health';
import { CniNetwork } from '../network';
import { LogClock } from '../logs';
import { ClusterNode } from '../membership';
import { Orchestrator, storeEnsurer } from '../orchestrator';
import type { ReplicaView } from '../orchestrator/types';
import { ProxyTable } from '../proxy';
import { AppStore } from '../state';
import { Fleet, replicaService, stopInCluster, streamRemoteLogs } from '../fleet';
import { blobService, imageCacheService } from '../images';
import { SyncEngine, syncService } from '../sync';
import { syncSources } from './sync-wiring';
import { systemClock } from '../discovery';
import { InvalidInputError, messageOf, UnavailableError } from '../errors';
import { FileJobs } from '../fs';
import { balancing } from './balancing';
import { joinSources } from './cluster-join';
import { ClusterImageStore } from '../images';
import { clusterBlobPeers } from './image-wiring';
import { RegistryClient } from '../registry';
import {
  chirpSources,
  fleetSources,
  keeperSources,
  localReplicaSource,
  remoteLogSources,
  stopSources,
} from './fleet-wiring';
import { ReplicaKeeper } from '../placement';
import { appService } from './services/apps';
import { chirpService } from './services/chirp';
import { clusterService } from './services/cluster';
import { parseSize } from '../config/size';
import { imageService } from './services/images';
import { nodeService } from './services/node';
import { syncStatusService } from './services/sync';

/** How long running calls may finish after SIGTERM before they are cut. */
const SHUTDOWN_GRACE_MS = 5000;

/**
 * The agent's composition root: builds every room with its dependencies, serves the local API
 * until `signal` aborts, then stops cleanly. Containers keep running: containerd owns them.
 */
export async function runAgent(config: AgentConfig, signal: AbortSignal): Promise<void> {
  await ensureDir('log-dir', config.logDir, config.logDir, 0o750);
  await ensureDir('state-dir', config.stateDir, join(config.stateDir, 'tmp'), 0o700);
  const log = createLogger({ level: config.logLevel, file: join(config.logDir, 'agent.log') });
  log.info('starting', { version, node: config.nodeName, containerd: config.containerd });

  const containerd = new ContainerdBackend({
    socket: config.containerd,
    namespace: config.namespace,
    log: log.child({ component: 'containerd' }),
  });
  const registry = new RegistryClient({ logger: log.child({ component: 'registry' }) });
  const proxies = new ProxyTable({ log: log.child({ component: 'proxy' }) });
  let orchestrator: Orchestrator | undefined;
  let keeper: ReplicaKeeper | undefined;
  let fleet: Fleet | undefined;
  let sync: SyncEngine | undefined;
  let stopSync: (() => Promise<void>) | undefined;
  const logDir = join(config.stateDir, 'containers');
  const logClock = new LogClock(logDir, log.child({ component: 'logs' }));
  const balancer = balancing(
    config.cluster.advertise,
    config.publishAddress,
    proxies,
    log.child({ component: 'balancing' }),
  );
  const replicaHost = {
    nodeName: config.nodeName,
    publishAddress: config.publishAddress,
    advertise: config.cluster.advertise,
    direct: (view: ReplicaView) => balancer.direct.endpointsOf(view),
  };
  // The peer API serves only after cluster.start(), which comes after the orchestrator's.
  const requireOrchestrator = (): Orchestrator => {
    if (orchestrator === undefined) throw new UnavailableError('the agent is still starting');
    return orchestrator;
  };
  const requireSync = (): SyncEngine => {
    if (sync === undefined) throw new UnavailableError('the agent is still starting');
    return sync;
  };
  const cluster = new ClusterNode({
    stateDir: config.stateDir,
    nodeName: config.nodeName,
    config: config.cluster,
    log: log.child({ component: 'cluster' }),
    peerServices: (identity) => [
      replicaService(
        identity,
        localReplicaSource(
          requireOrchestrator,
          () => containerd.images,
          replicaHost,
          (caller, app) => sync?.grantJoin(caller, app),
        ),
        log.child({ component: 'peer' }),
      ),
      blobService(
        identity,
        (digest, offset, signal) => containerd.images.readBlob(digest, offset, signal),
        log.child({ component: 'peer' }),
      ),
      syncService(
        identity,
        { volumeFor: (caller, app, target) => requireSync().volumeFor(caller, app, target) },
        log.child({ component: 'peer' }),
      ),
      imageCacheService(
        identity,
        {
          hasBlobs: (digests, signal) => containerd.images.hasBlobs(digests, signal),
          target: (name, signal) => containerd.images.target(name, signal),
        },
        log.child({ component: 'peer' }),
      ),
    ],
  });
  try {
    await containerd.ready(signal);
    const images = new ClusterImageStore({
      content: containerd.images,
      registry,
      log: log.child({ component: 'images' }),
      peers: clusterBlobPeers(cluster, log.child({ component: 'images' })),
    });
    const network = new CniNetwork({
      stateDir: config.stateDir,
      nodeName: config.nodeName,
      bridge: config.bridge,
      ...(config.subnet === 'auto' ? {} : { subnet: config.subnet }),
      log: log.child({ component: 'network' }),
    });
    const healthLog = log.child({ component: 'health' });
    orchestrator = new Orchestrator({
      nodeName: config.nodeName,
      logDir,
      runtime: containerd.runtime,
      images: storeEnsurer(images),
      network,
      proxies,
      store: new AppStore({
        dir: join(config.stateDir, 'apps'),
        log: log.child({ component: 'state' }),
      }),
      probes: (options) => new HealthMonitor({ ...options, log: healthLog }),
      publishAddress: config.publishAddress,
      log: log.child({ component: 'orchestrator' }),
    });
    await orchestrator.start();
    logClock.start();
    // Peering serves this node's replicas to members; the orchestrator itself does not use it yet.
    await cluster.start();
    fleet = new Fleet({
      sources: fleetSources(cluster),
      clock: systemClock,
      log: log.child({ component: 'fleet' }),
    });
    fleet.start();
    balancer.start(cluster, fleet);
    keeper = new ReplicaKeeper({
      sources: keeperSources(orchestrator, fleet),
      clock: systemClock,
      log: log.child({ component: 'placement' }),
      settleMs: config.cluster.deadAfterMs,
    });
    keeper.start();
    const fileJobs = FileJobs.threads();
    if (!fileJobs.threaded) {
      log.warn('sync: no file-worker.js beside the agent; file jobs run on the main thread');
    }
    sync = new SyncEngine({
      sources: syncSources(orchestrator, cluster, fleet),
      stateDir: config.stateDir,
      log: log.child({ component: 'sync' }),
      jobs: fileJobs,
    });
    const syncing = sync;
    const stopSyncWatch = fleet.onUpdate(() => {
      syncing.reconcile();
    });
    // Apps started or stopped here change what is synced even when no member says anything.
    const syncTimer = setInterval(() => {
      syncing.reconcile();
    }, 1000);
    syncing.reconcile();
    stopSync = async () => {
      stopSyncWatch();
      clearInterval(syncTimer);
      await syncing.close();
      await fileJobs.close();
    };
    const chirps = chirpSources(orchestrator, cluster, fleet, replicaHost);
    const remoteLogs = remoteLogSources(cluster, chirps);
    const stops = stopSources(orchestrator, cluster, chirps);
    const apiLog = log.child({ component: 'api' });
    const api = new ApiServer(config.socket, [
      nodeService(
        {
          nodeName: config.nodeName,
          budgieVersion: version,
          containerdNamespace: config.namespace,
          snapshotter: containerd.snapshotter,
          containerdVersion: (s) => containerd.version(s),
        },
        apiLog,
      ),
      imageService(images, join(config.stateDir, 'tmp'), apiLog, parseSize(config.maxImport)),
      appService(orchestrator, apiLog, {
        remoteLogs: (req, send, signal) => streamRemoteLogs(remoteLogs, req, send, signal),
        stop: (target, signal) => stopInCluster(stops, target, signal),
        elsewhere: (app) => fleet?.wantedElsewhere(app) ?? 0,
      }),
      clusterService(cluster, apiLog, (row) =>
        row.self
          ? orchestrator?.counts().reduce((n, app) => n + app.live, 0)
          : fleet?.liveOn(row.nodeId),
      ),
      syncStatusService(() => sync, cluster, apiLog),
      chirpService(
        chirps,
        systemClock,
        apiLog,
        joinSources(orchestrator, images, cluster, chirps, config.stateDir, sync),
      ),
    ]);
    await api.start();
    api.setServing(true);
    log.info('listening', { socket: config.socket });
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => {
        resolve();
      });
    });
    log.info('stopping');
    await api.stop(SHUTDOWN_GRACE_MS);
  } finally {
    await keeper?.close();
    await stopSync?.();
    await balancer.close();
    await fleet?.close();
    await cluster.close();
    orchestrator?.close();
    await logClock.close();
    // Published ports close with the agent; the replicas keep running and are re-adopted.
    await proxies.close();
    containerd.close();
    registry.close();
    log.info('stopped');
    await new Promise<void>((resolve) => {
      log.on('finish', resolve);
      log.end();
    });
  }
}

/** Creates `path` (the flag's `value` or under it), or says in one line which flag is wrong. */
async function ensureDir(flag: string, value: string, path: string, mode: number): Promise<void> {
  try {
    await mkdir(path, { recursive: true, mode });
  } catch (err) {
    throw new InvalidInputError(`${flag}: cannot create ${value}: ${messageOf(err)}`);
  }
}
