import { Fleet, type FleetMember, type NodeListing } from '../../../src/fleet';
import { listingOf } from '../../../src/fleet/replica-client';
import { UnavailableError } from '../../../src/errors';
import { Health, ReplicaState } from '../../../src/gen/budgie/v1/apps';
import { silentLogger } from '../../../src/log';
import type { MemberState } from '../../../src/membership';
import { ManualClock, settle } from '../../support/fakes/mdns';
import { listing, placed } from './fixtures';

const row = (name: string, state: MemberState = 'alive', self = false): FleetMember => ({
  nodeId: `id-${name}`,
  name,
  address: `192.0.2.${name.length}:7447`,
  state,
  lastSeenMs: 0,
  self,
});

/** A fleet over members a (this node), b and c, whose answers the test sets. */
function world() {
  const clock = new ManualClock();
  const state = {
    rows: [row('a', 'alive', true), row('b'), row('c')],
    answers: new Map<string, NodeListing | 'never'>([
      ['id-b', listing('b', placed('b1', 'web', 'b'))],
      ['id-c', listing('c')],
    ]),
    asked: [] as string[],
  };
  const fleet = new Fleet({
    clock,
    log: silentLogger(),
    intervalMs: 1000,
    timeoutMs: 500,
    sources: {
      members: () => state.rows,
      ask: (m) => {
        state.asked.push(m.name);
        const answer = state.answers.get(m.nodeId);
        if (answer === undefined) return Promise.reject(new Error('refused'));
        return answer === 'never' ? new Promise(() => undefined) : Promise.resolve(answer);
      },
    },
  });
  return { clock, state, fleet };
}

describe('Fleet', () => {
  it('asks each member once per interval, however many read it', async () => {
    const { clock, state, fleet } = world();
    let updates = 0;
    fleet.onUpdate(() => updates++);
    fleet.start();
    await clock.advance(0);
    for (let t = 0; t < 10; t++) {
      // Readers read the cache; none of them asks anyone.
      fleet.answers();
      fleet.wantedElsewhere('web');
      await clock.advance(1000);
    }
    expect(state.asked.filter((n) => n === 'b')).toHaveLength(11);
    expect(state.asked.filter((n) => n === 'c')).toHaveLength(11);
    expect(state.asked).not.toContain('a');
    expect(updates).toBeGreaterThanOrEqual(22);
    expect(fleet.listingOf('id-b')?.replicas.map((r) => r.replica.app)).toEqual(['web']);
    await fleet.close();
  });

  it('keeps the last answer of a slow member, marks it not current, and forgets a dead one', async () => {
    const { clock, state, fleet } = world();
    fleet.start();
    await clock.advance(0);
    state.answers.set('id-b', 'never');
    await clock.advance(1500);
    const b = fleet.answers().find((a) => a.member.name === 'b');
    expect(b?.current).toBe(false);
    expect(b?.listing?.replicas).toHaveLength(1);
    state.rows = [row('a', 'alive', true), row('b', 'dead'), row('c')];
    await clock.advance(250);
    expect(fleet.answers().map((a) => a.member.name)).toEqual(['c']);
    expect(fleet.listingOf('id-b')).toBeUndefined();
    await fleet.close();
  });

  it('answers a fresh read from an ask that starts after it, not from one already in flight', async () => {
    const clock = new ManualClock();
    const pending: ((l: NodeListing) => void)[] = [];
    const fleet = new Fleet({
      clock,
      log: silentLogger(),
      sources: {
        members: () => [row('a', 'alive', true), row('b')],
        ask: () => new Promise<NodeListing>((resolve) => pending.push(resolve)),
      },
    });
    fleet.start();
    await clock.advance(0);
    expect(pending).toHaveLength(1);
    // A change on b after its ask started: the fresh read must not take that ask's answer.
    const fresh = fleet.fresh([row('b')], 5000)[0];
    let got: unknown;
    void fresh?.then((a) => (got = a));
    pending[0]?.(listing('b'));
    await settle();
    expect(got).toBeUndefined();
    // The next ask starts at once, not an interval later.
    expect(pending).toHaveLength(2);
    const changed = listing('b', placed('b1', 'web', 'b'));
    pending[1]?.(changed);
    await settle();
    expect(got).toEqual({ listing: changed });
    await fleet.close();
  });

  it('says why a member has no fresh answer, and ends waiting reads on close', async () => {
    const { clock, state, fleet } = world();
    state.answers.set('id-c', 'never');
    const [b, c] = fleet.fresh([row('b'), row('c')], 500);
    await settle();
    await expect(b).resolves.toHaveProperty('listing');
    await clock.advance(500);
    await expect(c).resolves.toEqual({ reason: 'no answer within 500 ms' });
    const [late] = fleet.fresh([row('c')], 60_000);
    await fleet.close();
    await expect(late).resolves.toHaveProperty('reason');
  });
});

describe('listingOf (a member answer checked at the edge)', () => {
  const member = row('b');
  const wire = {
    id: 'b1'.padEnd(64, '0'),
    app: 'web',
    image: 'localhost/web:latest',
    state: ReplicaState.REPLICA_STATE_RUNNING,
    exitCode: 0,
    createdUnixMs: 1,
    startedUnixMs: 2,
    finishedUnixMs: 0,
    health: Health.HEALTH_HEALTHY,
    healthDetail: '',
    ports: [{ hostPort: 80, containerPort: 8080, protocol: 'tcp' }],
    node: 'lies',
    ip: '',
  };
  const nodeReplica = (replica = wire) => ({
    replica,
    addresses: [],
    replicasMin: 1,
    replicasMax: 2,
    direct: [],
  });

  it('names the node by the pinned id and the name it gave, not what each replica claims', () => {
    const res = { nodeId: 'x'.repeat(64), nodeName: 'b', replicas: [nodeReplica()], apps: [] };
    const got = listingOf(res, member);
    expect(got.nodeId).toBe('id-b');
    expect(got.replicas[0]?.replica).toMatchObject({ node: 'b', state: 'running', startedMs: 2 });
  });

  it('refuses unknown states and protocols, and answers past the bounds', () => {
    const bad = (replica: typeof wire) => () =>
      listingOf({ nodeId: '', nodeName: 'b', replicas: [nodeReplica(replica)], apps: [] }, member);
    expect(bad({ ...wire, state: ReplicaState.UNRECOGNIZED })).toThrow(/unknown state/);
    expect(bad({ ...wire, ports: [{ hostPort: 1, containerPort: 1, protocol: 'sctp' }] })).toThrow(
      /protocol sctp/,
    );
    const many = Array.from({ length: 10_001 }, () => nodeReplica());
    expect(() =>
      listingOf({ nodeId: '', nodeName: 'b', replicas: many, apps: [] }, member),
    ).toThrow(UnavailableError);
  });
});
