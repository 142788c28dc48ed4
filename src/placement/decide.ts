import type { AppCounts } from '../orchestrator/types';

/** One member's apps with their counts, as its replica listing gave them. */
export interface MemberCounts {
  nodeId: string;
  apps: readonly AppCounts[];
}

/**
 * How many stand-in replicas this node should run of each of its apps, so that the cluster keeps
 * every app's replicas.min while members are gone, and no more.
 *
 * Every member computes the same answer from the same listings, so nothing needs a leader or a
 * lock: only the holder with the lowest node id (the starter) raises its stand-ins, by what the
 * surviving holders' own scales leave short of min, less the stand-ins others already run (so a
 * handover never doubles them). Every node lowers its stand-ins when they are no longer needed,
 * but only as far as the live replicas keep min: a member that returned may still be starting its
 * own. Never past max.
 *
 * `others` are the members that are not dead (a suspect one still counts: it may only be slow).
 */
export function standInTargets(
  self: MemberCounts,
  others: readonly MemberCounts[],
): Map<string, number> {
  const targets = new Map<string, number>();
  const members = [self, ...others];
  for (const mine of self.apps) {
    const holders = members
      .flatMap((m) => {
        const counts = m.apps.find((a) => a.app === mine.app);
        return counts === undefined ? [] : [{ nodeId: m.nodeId, counts }];
      })
      .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
    const floor = Math.min(
      Math.max(...holders.map((h) => h.counts.clusterMin)),
      Math.min(...holders.map((h) => h.counts.max)),
    );
    const sum = (pick: (c: AppCounts) => number): number =>
      holders.reduce((n, h) => n + pick(h.counts), 0);
    const need = Math.max(0, floor - sum((c) => c.scale));
    const othersStandIns = sum((c) => c.standIns) - mine.standIns;
    const isStarter = holders[0]?.nodeId === self.nodeId;
    let target = isStarter ? Math.max(0, need - othersStandIns) : 0;
    if (target < mine.standIns) {
      const spare = Math.max(0, sum((c) => c.live) - floor);
      target = Math.max(target, mine.standIns - spare);
    }
    targets.set(mine.app, Math.max(0, Math.min(target, mine.max - mine.scale)));
  }
  return targets;
}
