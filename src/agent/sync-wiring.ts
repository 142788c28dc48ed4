import type { Fleet } from '../fleet';
import type { ClusterNode } from '../membership';
import type { Orchestrator } from '../orchestrator';
import { SyncClient, type SyncEngineSources, type SyncMember } from '../sync';

/**
 * Volume sync's view of the node and the cluster: the rw volumes of the apps this node runs
 * (the orchestrator), and the members that run each app (the fleet's last answers), dialled
 * over the pooled mTLS channel.
 */
export function syncSources(
  orchestrator: Orchestrator,
  cluster: ClusterNode,
  fleet: Fleet,
): SyncEngineSources {
  const wants = (counts: { scale: number; standIns: number; live: number }): boolean =>
    counts.scale + counts.standIns + counts.live > 0;
  return {
    selfId: () => (cluster.nodes() === undefined ? undefined : cluster.selfNodeId()),
    volumes: () => {
      const running = new Set(
        orchestrator
          .counts()
          .filter(wants)
          .map((c) => c.app),
      );
      return orchestrator
        .apps()
        .filter((app) => running.has(app.name))
        .flatMap((app) =>
          app.volumes
            .filter((v) => v.mode === 'rw')
            .map((v) => ({ app: app.name, target: v.target, dir: v.source })),
        );
    },
    membersRunning: (app) => {
      const out: SyncMember[] = [];
      for (const { member, listing } of fleet.answers()) {
        if (member.state !== 'alive' || member.address === '') continue;
        const counts = listing?.apps.find((a) => a.app === app);
        if (counts !== undefined && wants(counts)) {
          out.push({ nodeId: member.nodeId, address: member.address });
        }
      }
      return out;
    },
    peer: (member, app, target) =>
      new SyncClient(cluster.dial(member.address, member.nodeId), member.nodeId, app, target),
  };
}
