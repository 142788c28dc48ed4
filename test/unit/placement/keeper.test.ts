import { Fleet, type FleetMember } from '../../../src/fleet';
import { silentLogger } from '../../../src/log';
import type { MemberView } from '../../../src/membership';
import type { AppCounts } from '../../../src/orchestrator/types';
import { ReplicaKeeper, type KeeperSources } from '../../../src/placement';
import { ManualClock, settle } from '../../support/fakes/mdns';

const row = (nodeId: string, state: MemberView['state'] = 'alive', self = false): FleetMember => ({
  nodeId,
  name: nodeId,
  address: `${nodeId}:7447`,
  state,
  lastSeenMs: 0,
  self,
});
const web = (over: Partial<AppCounts> = {}): AppCounts => ({
  app: 'web',
  scale: 1,
  standIns: 0,
  clusterMin: 2,
  max: 3,
  live: 1,
  ...over,
});

/** Node "a" (this one) and member "b", each running one replica of web, min 2. */
function world() {
  const state = {
    rows: [row('a', 'alive', true), row('b')] as FleetMember[] | undefined,
    remote: new Map<string, AppCounts[] | 'silent' | 'fail'>([['b', [web()]]]),
    local: web(),
    sets: [] as [string, number][],
  };
  const clock = new ManualClock();
  // The keeper reads the fleet; the fleet asks the members as the test says.
  const fleet = new Fleet({
    clock,
    log: silentLogger(),
    intervalMs: 1000,
    timeoutMs: 500,
    sources: {
      members: () => state.rows,
      ask: (member, signal) =>
        asked(member, signal).then((apps) => ({
          nodeId: member.nodeId,
          nodeName: member.name,
          replicas: [],
          apps,
        })),
    },
  });
  const asked = (member: MemberView, signal: AbortSignal): Promise<AppCounts[]> => {
    const answer = state.remote.get(member.nodeId);
    if (answer === 'fail' || answer === undefined) return Promise.reject(new Error('refused'));
    if (answer === 'silent') {
      return new Promise((_, reject) => {
        signal.addEventListener('abort', () => {
          reject(new Error('aborted'));
        });
      });
    }
    return Promise.resolve(answer);
  };
  const sources: KeeperSources = {
    fleet,
    local: () => [state.local],
    setStandIns: (app, n) => {
      state.sets.push([app, n]);
      state.local = { ...state.local, standIns: n, live: state.local.scale + n };
      return Promise.resolve(n);
    },
  };
  const keeper = new ReplicaKeeper({
    sources,
    clock,
    log: silentLogger(),
    intervalMs: 1000,
    settleMs: 3000,
  });
  const start = (): void => {
    fleet.start();
    keeper.start();
  };
  const close = async (): Promise<void> => {
    await keeper.close();
    await fleet.close();
  };
  return { state, clock, keeper, fleet, start, close };
}

describe('ReplicaKeeper', () => {
  it('starts a stand-in once a member is dead, and gives it back when it returns', async () => {
    const { state, clock, start, close } = world();
    start();
    await clock.advance(5000);
    expect(state.sets).toEqual([]);
    state.rows = [row('a', 'alive', true), row('b', 'suspect')];
    await clock.advance(2000);
    // Suspect is not dead: its last answer stands, nothing starts.
    expect(state.sets).toEqual([]);
    state.rows = [row('a', 'alive', true), row('b', 'dead')];
    await clock.advance(1000);
    expect(state.sets).toEqual([['web', 1]]);
    state.rows = [row('a', 'alive', true), row('b')];
    await clock.advance(1000);
    expect(state.sets).toEqual([
      ['web', 1],
      ['web', 0],
    ]);
    await close();
  });

  it('counts what the other members want of an app, for a scale here to leave room', async () => {
    const { state, clock, fleet, start, close } = world();
    state.remote.set('b', [web({ scale: 2, standIns: 1 })]);
    start();
    await clock.advance(1000);
    expect(fleet.wantedElsewhere('web')).toBe(3);
    expect(fleet.wantedElsewhere('db')).toBe(0);
    expect(fleet.liveOn('b')).toBe(1);
    await close();
  });

  it('waits out the settle time after start: a member not heard yet is not a dead one', async () => {
    const { state, clock, start, close } = world();
    state.rows = [row('a', 'alive', true)];
    start();
    await clock.advance(2000);
    expect(state.sets).toEqual([]);
    await clock.advance(1000);
    expect(state.sets).toEqual([['web', 1]]);
    await close();
  });

  it('acts only once every member that is not dead has answered', async () => {
    const { state, clock, start, close } = world();
    state.rows = [row('a', 'alive', true), row('b', 'dead'), row('c', 'suspect')];
    state.remote.set('c', 'fail');
    start();
    await clock.advance(5000);
    expect(state.sets).toEqual([]);
    state.remote.set('c', []);
    await clock.advance(1000);
    expect(state.sets).toEqual([['web', 1]]);
    await close();
  });

  it("keeps a slow member's last answer rather than treating it as gone", async () => {
    const { state, clock, start, close } = world();
    start();
    await clock.advance(4000);
    state.remote.set('b', 'silent');
    await clock.advance(5000);
    expect(state.sets).toEqual([]);
    await close();
  });

  it('does nothing outside a cluster, and stops on close', async () => {
    const { state, clock, start, close } = world();
    state.rows = undefined;
    start();
    await clock.advance(5000);
    expect(state.sets).toEqual([]);
    await close();
    state.rows = [row('a', 'alive', true)];
    await clock.advance(5000);
    await settle();
    expect(state.sets).toEqual([]);
  });
});
