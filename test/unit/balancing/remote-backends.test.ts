import {
  backendSets,
  parseEndpoint,
  RemoteBalancer,
  type RemoteBackendSet,
  type RemoteReplica,
} from '../../../src/balancing';
import { Fleet, type FleetOptions, type NodeListing } from '../../../src/fleet';
import { silentLogger } from '../../../src/log';
import type { MemberView } from '../../../src/membership';
import { ManualClock, settle } from '../../support/fakes/mdns';

const member = (name: string, state: MemberView['state'] = 'alive'): MemberView => ({
  nodeId: `id-${name}`,
  name,
  address: `10.0.0.${name === 'b' ? 2 : 3}:7447`,
  state,
  lastSeenMs: 0,
});

const replica = (id: string, over: Partial<RemoteReplica> = {}): RemoteReplica => ({
  id,
  app: 'web',
  serving: true,
  ports: [{ hostPort: 80, protocol: 'tcp' }],
  direct: ['10.0.0.2:41000'],
  ...over,
});

describe('backendSets', () => {
  it("groups serving replicas' direct endpoints by app and port, skipping the rest", () => {
    const sets = backendSets(
      [
        {
          member: member('b'),
          replicas: [
            replica('r1'),
            replica('r2', { serving: false }),
            replica('r3', { direct: [''] }),
            replica('r4', { direct: ['10.0.0.2:41001/udp'] }),
            replica('r5', {
              app: 'dns',
              ports: [{ hostPort: 53, protocol: 'udp' }],
              direct: ['10.0.0.2:41002/udp'],
            }),
          ],
        },
        { member: member('c'), replicas: [replica('r6', { direct: ['10.0.0.3:42000'] })] },
      ],
      500,
    );
    expect(sets).toEqual<RemoteBackendSet[]>([
      {
        owner: 'web',
        protocol: 'tcp',
        port: 80,
        backends: [
          { id: 'remote/id-b/r1', host: '10.0.0.2', port: 41000, connectTimeoutMs: 500 },
          { id: 'remote/id-c/r6', host: '10.0.0.3', port: 42000, connectTimeoutMs: 500 },
        ],
      },
      {
        owner: 'dns',
        protocol: 'udp',
        port: 53,
        backends: [{ id: 'remote/id-b/r5', host: '10.0.0.2', port: 41002 }],
      },
    ]);
  });

  it('accepts only IPv4 HOST:PORT endpoints from members', () => {
    expect(parseEndpoint('10.0.0.2:80')).toEqual({ host: '10.0.0.2', port: 80, protocol: 'tcp' });
    for (const bad of ['', 'x:80', '10.0.0.2', '10.0.0.2:0', '10.0.0.2:70000', '10.0.0.2:80/x']) {
      expect(parseEndpoint(bad)).toBeUndefined();
    }
  });
});

/** A member's replica listing, as the fleet would have it from the member's answer. */
function listingOf(m: MemberView, replicas: RemoteReplica[]): NodeListing {
  return {
    nodeId: m.nodeId,
    nodeName: m.name,
    apps: [],
    replicas: replicas.map((r) => ({
      replica: {
        id: r.id,
        app: r.app,
        image: 'localhost/web:latest',
        state: r.serving ? 'running' : 'exited',
        createdMs: 1,
        health: 'none',
        healthDetail: '',
        ports: r.ports.map((p) => ({
          hostPort: p.hostPort,
          containerPort: p.hostPort,
          protocol: p.protocol === 'udp' ? 'udp' : 'tcp',
        })),
        node: m.name,
      },
      nodeId: m.nodeId,
      addresses: [],
      replicasMin: 1,
      replicasMax: 3,
      direct: [...r.direct],
    })),
  };
}

/** A balancer over a fleet that asks the members as `ask` says; started and closed together. */
function balancerOver(
  options: Omit<FleetOptions, 'sources' | 'log'> & {
    members: () => MemberView[];
    ask: (m: MemberView) => Promise<RemoteReplica[]>;
    setRemote: (sets: readonly RemoteBackendSet[]) => void;
  },
) {
  const fleet = new Fleet({
    ...options,
    log: silentLogger(),
    sources: {
      members: () => options.members().map((m) => ({ ...m, self: false })),
      ask: async (m) => listingOf(m, await options.ask(m)),
    },
  });
  const balancer = new RemoteBalancer({ fleet, sink: { setRemote: options.setRemote } });
  return {
    start: () => {
      balancer.start();
      fleet.start();
    },
    close: async () => {
      await balancer.close();
      await fleet.close();
    },
  };
}

describe('RemoteBalancer', () => {
  it('asks alive members every round and drops silent, failed and suspect ones', async () => {
    const clock = new ManualClock();
    const given: (readonly RemoteBackendSet[])[] = [];
    let members = [member('b'), member('c', 'suspect')];
    const asked: string[] = [];
    let answer: (m: MemberView) => Promise<RemoteReplica[]> = () =>
      Promise.resolve([replica('r1')]);
    const balancer = balancerOver({
      clock,
      intervalMs: 2000,
      timeoutMs: 1000,
      setRemote: (sets) => given.push(sets),
      members: () => members,
      ask: (m) => {
        asked.push(m.name);
        return answer(m);
      },
    });
    balancer.start();
    await clock.advance(0);
    // The fleet asks every member that is not dead (the keeper needs suspect ones' counts).
    expect(asked).toEqual(['b', 'c']);
    expect(given.at(-1)?.[0]?.backends.map((b) => b.id)).toEqual(['remote/id-b/r1']);

    // A member that does not answer in time counts as having nothing.
    answer = () => new Promise(() => undefined);
    await clock.advance(2000);
    expect(given).toHaveLength(1);
    await clock.advance(1000);
    expect(given.at(-1)).toEqual([]);

    answer = () => Promise.resolve([replica('r1')]);
    await clock.advance(2000);
    expect(given.at(-1)).toHaveLength(1);
    answer = () => Promise.reject(new Error('refused'));
    await clock.advance(2000);
    expect(given.at(-1)).toEqual([]);

    answer = () => Promise.resolve([replica('r1')]);
    members = [member('b', 'dead')];
    await clock.advance(2000);
    expect(given.at(-1)).toEqual([]);

    await balancer.close();
    await settle();
    expect(given.at(-1)).toEqual([]);
    const rounds = given.length;
    await clock.advance(10_000);
    expect(given).toHaveLength(rounds);
  });

  function watched(intervalMs = 2000) {
    const clock = new ManualClock();
    const given: (readonly RemoteBackendSet[])[] = [];
    const asked: string[] = [];
    const state = { members: [member('b'), member('c')] };
    const balancer = balancerOver({
      clock,
      intervalMs,
      timeoutMs: 1000,
      watchMs: 250,
      setRemote: (sets) => given.push(sets),
      members: () => state.members,
      ask: (m) => {
        asked.push(m.name);
        const direct = [m.name === 'b' ? '10.0.0.2:41000' : '10.0.0.3:42000'];
        return Promise.resolve([replica(`r-${m.name}`, { direct })]);
      },
    });
    const ids = () => (given.at(-1)?.[0]?.backends ?? []).map((b) => b.id);
    return { clock, given, asked, state, balancer, ids };
  }

  it("drops a member's backends as soon as it turns suspect, without asking anyone", async () => {
    const { clock, asked, state, balancer, ids } = watched(60_000);
    balancer.start();
    await clock.advance(0);
    expect(ids()).toEqual(['remote/id-b/r-b', 'remote/id-c/r-c']);
    asked.length = 0;
    state.members = [member('b', 'suspect'), member('c')];
    await clock.advance(250);
    expect(ids()).toEqual(['remote/id-c/r-c']);
    expect(asked).toEqual([]);
    state.members = [member('b', 'dead'), member('c')];
    await clock.advance(1000);
    expect(ids()).toEqual(['remote/id-c/r-c']);
    await balancer.close();
  });

  it('asks a member at once when it is alive again', async () => {
    const { clock, asked, state, balancer, ids } = watched(60_000);
    state.members = [member('b', 'suspect'), member('c')];
    balancer.start();
    await clock.advance(0);
    // Suspect b is asked too (its counts matter to the keeper), but it serves nothing.
    expect(asked).toEqual(['b', 'c']);
    expect(ids()).toEqual(['remote/id-c/r-c']);
    state.members = [member('b'), member('c')];
    await clock.advance(250);
    expect(asked).toEqual(['b', 'c', 'b']);
    expect(ids()).toEqual(['remote/id-b/r-b', 'remote/id-c/r-c']);
    // Gone and back between two rounds: asked again, not left out until the next round.
    state.members = [member('b', 'suspect'), member('c')];
    await clock.advance(250);
    state.members = [member('b'), member('c')];
    await clock.advance(250);
    expect(asked.filter((n) => n === 'b')).toHaveLength(3);
    expect(ids()).toEqual(['remote/id-b/r-b', 'remote/id-c/r-c']);
    await balancer.close();
  });

  it('does not bring back a member that turned suspect while a round was asking', async () => {
    const clock = new ManualClock();
    const given: (readonly RemoteBackendSet[])[] = [];
    let members = [member('b'), member('c')];
    let answerC: (r: RemoteReplica[]) => void = () => undefined;
    const balancer = balancerOver({
      clock,
      intervalMs: 60_000,
      setRemote: (sets) => given.push(sets),
      members: () => members,
      ask: (m) =>
        m.name === 'b'
          ? Promise.resolve([replica('r-b')])
          : new Promise((resolve) => (answerC = resolve)),
    });
    balancer.start();
    await clock.advance(0);
    members = [member('b', 'suspect'), member('c')];
    answerC([replica('r-c', { direct: ['10.0.0.3:42000'] })]);
    await clock.advance(0);
    expect(given.at(-1)?.[0]?.backends.map((b) => b.id)).toEqual(['remote/id-c/r-c']);
    await balancer.close();
  });
});
