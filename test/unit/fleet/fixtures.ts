import type { ClusterReplica, NodeListing, PlacedReplica } from '../../../src/fleet';
import type { MemberState, MemberView } from '../../../src/membership';

export function replica(id: string, app: string, node: string, running = true): ClusterReplica {
  return {
    id: id.padEnd(64, '0'),
    app,
    image: `localhost/${app}:latest`,
    state: running ? 'running' : 'exited',
    exitCode: 0,
    createdMs: 1,
    startedMs: 1,
    health: 'healthy',
    healthDetail: '',
    ports: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    node,
    ip: '10.0.0.2',
  };
}

export function placed(id: string, app: string, node: string, running = true): PlacedReplica {
  return {
    replica: replica(id, app, node, running),
    nodeId: `id-${node}`,
    addresses: [`192.0.2.1:8080`],
    replicasMin: 1,
    replicasMax: 3,
    direct: [],
  };
}

export function listing(node: string, ...replicas: PlacedReplica[]): NodeListing {
  return { nodeId: `id-${node}`, nodeName: node, replicas, apps: [] };
}

export function member(name: string, state: MemberState = 'alive'): MemberView {
  return {
    nodeId: `id-${name}`,
    name,
    address: `192.0.2.${name.length}:7447`,
    state,
    lastSeenMs: 0,
  };
}
