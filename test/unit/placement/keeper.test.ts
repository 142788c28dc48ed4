import { silentLogger } from '../../../src/log';
import type { MemberView } from '../../../src/membership';
import type { AppCounts } from '../../../src/orchestrator/types';
import { ReplicaKeeper, type KeeperMember, type KeeperSources } from '../../../src/placement';
import { ManualClock, settle } from '../../support/fakes/mdns';

const row = (nodeId: string, state: MemberView['state'] = 'alive', self = false): KeeperMember => ({
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
    rows: [row('a', 'alive', true), row('b')] as KeeperMember[] | undefined,
    remote: new Map<string, AppCounts[] | 'silent' | 'fail'>([['b', [web()]]]),
    local: web(),
    sets: [] as [string, number][],
  };
  const sources: KeeperSources = {
    members: () => state.rows,
    ask: (member, signal) => {
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
    },
    local: () => [state.local],
    setStandIns: (app, n) => {
      state.sets.push([app, n]);
      state.local = { ...state.local, standIns: n, live: state.local.scale + n };
      return Promise.resolve(n);
    },
  };
  const clock = new ManualClock();
  const keeper = new ReplicaKeeper({
    sources,
    clock,
    log: silentLogger(),
    intervalMs: 1000,
    timeoutMs: 500,
    settleMs: 3000,
  });
  return { state, clock, keeper };
}

describe('ReplicaKeeper', () => {
  it('starts a stand-in once a member is dead, and gives it back when it returns', async () => {
    const { state, clock, keeper } = world();
    keeper.start();
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
    await keeper.close();
  });

  it('counts what the other members want of an app, for a scale here to leave room', async () => {
    const { state, clock, keeper } = world();
    state.remote.set('b', [web({ scale: 2, standIns: 1 })]);
    keeper.start();
    await clock.advance(1000);
    expect(keeper.elsewhere('web')).toBe(3);
    expect(keeper.elsewhere('db')).toBe(0);
    expect(keeper.liveOn('b')).toBe(1);
    await keeper.close();
  });

  it('waits out the settle time after start: a member not heard yet is not a dead one', async () => {
    const { state, clock, keeper } = world();
    state.rows = [row('a', 'alive', true)];
    keeper.start();
    await clock.advance(2000);
    expect(state.sets).toEqual([]);
    await clock.advance(1000);
    expect(state.sets).toEqual([['web', 1]]);
    await keeper.close();
  });

  it('acts only once every member that is not dead has answered', async () => {
    const { state, clock, keeper } = world();
    state.rows = [row('a', 'alive', true), row('b', 'dead'), row('c', 'suspect')];
    state.remote.set('c', 'fail');
    keeper.start();
    await clock.advance(5000);
    expect(state.sets).toEqual([]);
    state.remote.set('c', []);
    await clock.advance(1000);
    expect(state.sets).toEqual([['web', 1]]);
    await keeper.close();
  });

  it("keeps a slow member's last answer rather than treating it as gone", async () => {
    const { state, clock, keeper } = world();
    keeper.start();
    await clock.advance(4000);
    state.remote.set('b', 'silent');
    await clock.advance(5000);
    expect(state.sets).toEqual([]);
    await keeper.close();
  });

  it('does nothing outside a cluster, and stops on close', async () => {
    const { state, clock, keeper } = world();
    state.rows = undefined;
    keeper.start();
    await clock.advance(5000);
    expect(state.sets).toEqual([]);
    await keeper.close();
    state.rows = [row('a', 'alive', true)];
    await clock.advance(5000);
    await settle();
    expect(state.sets).toEqual([]);
  });
});
