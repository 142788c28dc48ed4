import type { AppCounts } from '../../../src/orchestrator/types';
import { standInTargets, type MemberCounts } from '../../../src/placement';

const web = (over: Partial<AppCounts> = {}): AppCounts => ({
  app: 'web',
  scale: 1,
  standIns: 0,
  clusterMin: 3,
  max: 5,
  live: over.scale ?? 1,
  ...over,
});
const node = (nodeId: string, ...apps: AppCounts[]): MemberCounts => ({ nodeId, apps });

/** Every node's decision from the same listings, as the cluster computes them. */
function everyone(nodes: MemberCounts[]): Record<string, number | undefined> {
  return Object.fromEntries(
    nodes.map((self) => [
      self.nodeId,
      standInTargets(
        self,
        nodes.filter((n) => n !== self),
      ).get('web'),
    ]),
  );
}

describe('standInTargets', () => {
  it('asks for nothing while the holders run min between them', () => {
    expect(everyone([node('a', web({ scale: 2 })), node('b', web())])).toEqual({ a: 0, b: 0 });
  });

  it('has exactly one survivor, the lowest node id, start what the gone members ran', () => {
    // c (scale 1) is gone: a and b run 2 of min 3.
    expect(everyone([node('b', web()), node('a', web())])).toEqual({ a: 1, b: 0 });
  });

  it('never starts past max, whatever min says', () => {
    const targets = standInTargets(node('a', web({ clusterMin: 9, max: 4, scale: 3 })), []);
    expect(targets.get('web')).toBe(1);
  });

  it('takes the highest min any holder declares (a joined node knows the original min)', () => {
    const joined = web({ clusterMin: 3 });
    const stale = web({ clusterMin: 1 });
    expect(everyone([node('a', stale), node('b', joined)])).toEqual({ a: 1, b: 0 });
  });

  it('does not double stand-ins on a handover: a new lower starter counts those others run', () => {
    // b started one while a was away; a is back (scale 1), c still gone: 1 + 2 = 3 live.
    const nodes = [node('a', web()), node('b', web({ standIns: 1, live: 2 }))];
    expect(everyone(nodes)).toEqual({ a: 0, b: 1 });
  });

  it('gives stand-ins back once the gone member returns and serves', () => {
    const nodes = [node('a', web({ standIns: 1, live: 2 })), node('b', web()), node('c', web())];
    expect(everyone(nodes)).toEqual({ a: 0, b: 0, c: 0 });
  });

  it('keeps stand-ins while a returned member is still starting its own replicas', () => {
    const nodes = [
      node('a', web({ standIns: 1, live: 2 })),
      node('b', web()),
      node('c', web({ live: 0 })),
    ];
    expect(everyone(nodes).a).toBe(1);
  });

  it('gives back only the surplus when some of it is still needed', () => {
    // min 4: a ran 3 stand-ins for b and c (scale 1 each), c is back: one is still needed.
    const nodes = [node('a', web({ clusterMin: 4, standIns: 2, live: 3 })), node('c', web())];
    expect(everyone(nodes).a).toBe(2);
    const more = [node('a', web({ clusterMin: 4, standIns: 3, live: 4 })), node('c', web())];
    expect(everyone(more).a).toBe(2);
  });

  it('decides per app, and only for apps this node runs', () => {
    const db: AppCounts = { ...web(), app: 'db', clusterMin: 2 };
    const targets = standInTargets(node('a', web()), [node('b', db)]);
    expect([...targets]).toEqual([['web', 2]]);
  });

  it('is the same whatever order the listings come in', () => {
    const nodes = [node('c', web()), node('a', web()), node('b', web({ clusterMin: 4 }))];
    const reversed = [...nodes].reverse();
    expect(everyone(nodes)).toEqual(everyone(reversed));
    expect(everyone(nodes)).toEqual({ a: 1, b: 0, c: 0 });
  });
});
