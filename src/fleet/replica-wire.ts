import type { PortMapping } from '../bundle/types';
import { UnavailableError } from '../errors';
import { Health, ReplicaState, type Replica } from '../gen/budgie/v1/apps';
import type { ReplicaView } from '../orchestrator/types';
import type { ClusterReplica } from './types';

/**
 * budgie.v1's Replica message, both ways: the local API and the peer API send replicas in it,
 * and what a member sends is checked here before the fleet works on it.
 */
const STATE: Record<ReplicaView['state'], ReplicaState> = {
  created: ReplicaState.REPLICA_STATE_CREATED,
  running: ReplicaState.REPLICA_STATE_RUNNING,
  stopping: ReplicaState.REPLICA_STATE_STOPPING,
  exited: ReplicaState.REPLICA_STATE_EXITED,
};
const HEALTH: Record<ReplicaView['health'], Health> = {
  none: Health.HEALTH_NONE,
  starting: Health.HEALTH_STARTING,
  healthy: Health.HEALTH_HEALTHY,
  unhealthy: Health.HEALTH_UNHEALTHY,
};
const STATE_OF = new Map(Object.entries(STATE).map(([k, v]) => [v, k as ReplicaView['state']]));
const HEALTH_OF = new Map(Object.entries(HEALTH).map(([k, v]) => [v, k as ReplicaView['health']]));

export function toReplica(r: ClusterReplica): Replica {
  return {
    id: r.id,
    app: r.app,
    image: r.image,
    state: STATE[r.state],
    exitCode: r.exitCode ?? 0,
    createdUnixMs: r.createdMs,
    startedUnixMs: r.startedMs ?? 0,
    finishedUnixMs: r.finishedMs ?? 0,
    health: HEALTH[r.health],
    healthDetail: r.healthDetail,
    ports: r.ports.map((p) => ({
      hostPort: p.hostPort,
      containerPort: p.containerPort,
      protocol: p.protocol,
    })),
    node: r.node,
    ip: r.ip ?? '',
  };
}

/** A member's replica, checked: `node` is the name the member gave for itself. */
export function fromReplica(r: Replica, node: string, from: string): ClusterReplica {
  const state = STATE_OF.get(r.state);
  const health = HEALTH_OF.get(r.health);
  if (state === undefined || health === undefined) {
    throw new UnavailableError(`peer ${from}: sent replica ${r.id} with an unknown state`);
  }
  const ports = r.ports.map((p): PortMapping => {
    const protocol = p.protocol;
    if (protocol !== 'tcp' && protocol !== 'udp') {
      throw new UnavailableError(
        `peer ${from}: sent replica ${r.id} with a port of protocol ${protocol}`,
      );
    }
    return { hostPort: p.hostPort, containerPort: p.containerPort, protocol };
  });
  return {
    id: r.id,
    app: r.app,
    image: r.image,
    state,
    ...(r.exitCode === 0 && state !== 'exited' ? {} : { exitCode: r.exitCode }),
    createdMs: r.createdUnixMs,
    ...(r.startedUnixMs === 0 ? {} : { startedMs: r.startedUnixMs }),
    ...(r.finishedUnixMs === 0 ? {} : { finishedMs: r.finishedUnixMs }),
    health,
    healthDetail: r.healthDetail,
    ports,
    node,
    ...(r.ip === '' ? {} : { ip: r.ip }),
  };
}
