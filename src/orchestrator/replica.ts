import type { App } from '../bundle/types';
import type { ContainerInfo } from '../runtime/containers';
import { LABEL_SPEC } from './labels';
import type { HealthProbe, HealthState, ReplicaState, ReplicaView } from './types';

export interface ReplicaInit {
  id: string;
  hash: string;
  imageName: string;
  createdMs: number;
  logPath: string;
  hasHealthcheck: boolean;
}

/** One replica as the supervisor tracks it; containerd holds the container, this the meaning. */
export class Replica {
  readonly id: string;
  readonly hash: string;
  readonly imageName: string;
  readonly createdMs: number;
  readonly logPath: string;
  state: ReplicaState = 'created';
  health: HealthState;
  healthDetail = '';
  startedMs: number | undefined;
  finishedMs: number | undefined;
  exitCode: number | undefined;
  /** Since when it has served without a break; resets the restart backoff after a while. */
  readySinceMs: number | undefined;
  ip: string | undefined;
  probe: HealthProbe | undefined;
  retiring: Promise<void> | undefined;

  constructor(init: ReplicaInit) {
    this.id = init.id;
    this.hash = init.hash;
    this.imageName = init.imageName;
    this.createdMs = init.createdMs;
    this.logPath = init.logPath;
    this.health = init.hasHealthcheck ? 'starting' : 'none';
  }

  running(atMs: number): void {
    this.state = 'running';
    this.startedMs ??= atMs;
    if (this.health === 'none') this.readySinceMs = atMs;
  }

  exited(code: number, atMs: number): void {
    this.state = 'exited';
    this.exitCode = code;
    this.finishedMs = atMs;
    this.readySinceMs = undefined;
  }

  setHealth(health: HealthState, detail: string, atMs: number): void {
    this.health = health;
    this.healthDetail = detail;
    if (health === 'healthy' || health === 'none') this.readySinceMs ??= atMs;
    else this.readySinceMs = undefined;
  }

  /** Reads the state afresh (it changes across awaits, which type narrowing cannot see). */
  is(state: ReplicaState): boolean {
    return this.state === state;
  }

  isReady(): boolean {
    return this.state === 'running' && (this.health === 'healthy' || this.health === 'none');
  }

  view(app: App, node: string): ReplicaView {
    return {
      id: this.id,
      app: app.name,
      image: this.imageName,
      state: this.state,
      ...(this.exitCode === undefined ? {} : { exitCode: this.exitCode }),
      createdMs: this.createdMs,
      ...(this.startedMs === undefined ? {} : { startedMs: this.startedMs }),
      ...(this.finishedMs === undefined ? {} : { finishedMs: this.finishedMs }),
      health: this.health,
      healthDetail: this.healthDetail,
      ports: app.ports,
      node,
      ...(this.ip === undefined ? {} : { ip: this.ip }),
      logPath: this.logPath,
    };
  }
}

/** A replica found in containerd at agent start (or after a restart), as the supervisor tracks it. */
export function adoptedReplica(
  info: ContainerInfo,
  ip: string,
  hasHealthcheck: boolean,
  logPath: string,
): Replica {
  const replica = new Replica({
    id: info.id,
    hash: info.labels[LABEL_SPEC] ?? '',
    imageName: info.image,
    createdMs: info.createdAtMs,
    logPath: info.logPath ?? logPath,
    hasHealthcheck,
  });
  replica.ip = ip;
  if (info.state === 'running') replica.running(info.createdAtMs);
  else replica.exited(info.exitCode ?? 255, info.exitedAtMs ?? info.createdAtMs);
  return replica;
}
