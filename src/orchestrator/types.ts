import type { App, ImageSource } from '../bundle/types';
import type { ImageOperation } from '../runtime/images';

/** The rooms the orchestrator drives; each is a narrow interface, faked in unit tests. */
export type HealthState = 'none' | 'starting' | 'healthy' | 'unhealthy';
export type ReplicaState = 'created' | 'running' | 'stopping' | 'exited';

/** What `ps` shows of one replica. */
export interface ReplicaView {
  id: string;
  app: string;
  image: string;
  state: ReplicaState;
  exitCode?: number;
  createdMs: number;
  startedMs?: number;
  finishedMs?: number;
  health: HealthState;
  healthDetail: string;
  ports: App['ports'];
  node: string;
  ip?: string;
  logPath: string;
}

/**
 * Makes sure an image is on this node (pulling a registry image when missing, importing an
 * archive); returns its stored name.
 */
export interface ImageEnsurer {
  ensure(source: ImageSource, op: ImageOperation): Promise<string>;
}

export interface HealthProbe {
  start(): void;
  stop(): void;
}

export interface HealthProbeOptions {
  host: string;
  port: number;
  path: string;
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  onChange(state: 'starting' | 'healthy' | 'unhealthy', detail: string): void;
}

export type HealthProbeFactory = (options: HealthProbeOptions) => HealthProbe;

/** Desired state as persisted: the app and how many replicas it should run. */
export interface AppRecord {
  app: App;
  /** Replicas this node runs for itself. */
  scale: number;
  /**
   * Extra replicas run in place of cluster members that are gone, so that the cluster keeps
   * `clusterMin` (see src/placement); 0 outside a cluster. scale + standIns never passes max.
   */
  standIns?: number;
  /**
   * replicas.min across the cluster: the app's own min, or for an app joined from a member (whose
   * local min is 1), the min that member declared. Default app.replicas.min.
   */
  clusterMin?: number;
  updatedMs: number;
}

/** One app's counts on this node, as members compare them to keep replicas.min cluster-wide. */
export interface AppCounts {
  app: string;
  scale: number;
  standIns: number;
  clusterMin: number;
  max: number;
  /** Replicas starting or running now. */
  live: number;
}

export interface DesiredStateStore {
  save(record: AppRecord): Promise<void>;
  remove(name: string): Promise<void>;
  get(name: string): Promise<AppRecord | undefined>;
  list(): Promise<AppRecord[]>;
}

/** Progress of `run`, as the API streams it. */
export type RunEvent =
  | { type: 'phase'; text: string }
  | { type: 'image'; event: Parameters<ImageOperation['onEvent']>[0] }
  | { type: 'replica'; replica: ReplicaView };
