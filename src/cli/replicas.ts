import { Health, ReplicaState, type Replica } from '../gen/budgie/v1/apps';
import { formatDuration } from './table';

/** Docker-style short container ID. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}

export type StateName = 'created' | 'running' | 'stopping' | 'exited' | 'unknown';
export type HealthName = 'none' | 'starting' | 'healthy' | 'unhealthy' | 'unknown';

const STATE: Record<ReplicaState, StateName> = {
  [ReplicaState.REPLICA_STATE_UNSPECIFIED]: 'unknown',
  [ReplicaState.REPLICA_STATE_CREATED]: 'created',
  [ReplicaState.REPLICA_STATE_RUNNING]: 'running',
  [ReplicaState.REPLICA_STATE_STOPPING]: 'stopping',
  [ReplicaState.REPLICA_STATE_EXITED]: 'exited',
  [ReplicaState.UNRECOGNIZED]: 'unknown',
};

const HEALTH: Record<Health, HealthName> = {
  [Health.HEALTH_UNSPECIFIED]: 'unknown',
  [Health.HEALTH_NONE]: 'none',
  [Health.HEALTH_STARTING]: 'starting',
  [Health.HEALTH_HEALTHY]: 'healthy',
  [Health.HEALTH_UNHEALTHY]: 'unhealthy',
  [Health.UNRECOGNIZED]: 'unknown',
};

export function stateName(r: Replica): StateName {
  return STATE[r.state];
}

export function healthName(r: Replica): HealthName {
  return HEALTH[r.health];
}

/** `running 3m`, `exited (137) 10s ago`, `created`, `stopping`. */
export function formatStatus(r: Replica, nowMs: number): string {
  const state = stateName(r);
  if (state === 'running' && r.startedUnixMs > 0) {
    return `running ${formatDuration(nowMs - r.startedUnixMs)}`;
  }
  if (state === 'exited') {
    const ago = r.finishedUnixMs > 0 ? ` ${formatDuration(nowMs - r.finishedUnixMs)} ago` : '';
    return `exited (${r.exitCode})${ago}`;
  }
  return state;
}

/** The HEALTH column: `-` for apps without a healthcheck. */
export function formatHealth(r: Replica): string {
  const health = healthName(r);
  return health === 'none' || health === 'unknown' ? '-' : health;
}

/** `8080->80/tcp, 53->53/udp`. */
export function formatPorts(r: Replica): string {
  return r.ports.map((p) => `${p.hostPort}->${p.containerPort}/${p.protocol}`).join(', ');
}

/** One line of `budgie run` progress: `replica 3f2a9c1b7d0e running, healthy`. */
export function describeReplica(r: Replica): string {
  const state = stateName(r);
  const parts = [state === 'exited' ? `exited (${r.exitCode})` : state];
  const health = healthName(r);
  if (health !== 'none' && health !== 'unknown' && state === 'running') parts.push(health);
  const detail = health === 'unhealthy' && r.healthDetail !== '' ? `: ${r.healthDetail}` : '';
  return `replica ${shortId(r.id)} ${parts.join(', ')}${detail}`;
}

/** The stable JSON shape of `budgie ps --format json` (documented in PS-JSON.md). */
export interface ReplicaJson {
  id: string;
  app: string;
  image: string;
  state: StateName;
  exitCode: number | null;
  createdAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  health: HealthName;
  healthDetail: string | null;
  ports: { hostPort: number; containerPort: number; protocol: string }[];
  node: string;
  ip: string | null;
}

export function replicaJson(r: Replica): ReplicaJson {
  const state = stateName(r);
  return {
    id: r.id,
    app: r.app,
    image: r.image,
    state,
    exitCode: state === 'exited' ? r.exitCode : null,
    createdAt: isoOrNull(r.createdUnixMs),
    startedAt: isoOrNull(r.startedUnixMs),
    finishedAt: isoOrNull(r.finishedUnixMs),
    health: healthName(r),
    healthDetail: r.healthDetail === '' ? null : r.healthDetail,
    ports: r.ports.map((p) => ({
      hostPort: p.hostPort,
      containerPort: p.containerPort,
      protocol: p.protocol,
    })),
    node: r.node,
    ip: r.ip === '' ? null : r.ip,
  };
}

function isoOrNull(unixMs: number): string | null {
  return unixMs > 0 ? new Date(unixMs).toISOString() : null;
}
