import { UnavailableError } from '../../../src/errors';
import { silentLogger } from '../../../src/log';
import { MemberTable, type HelloAnswer, type Prober } from '../../../src/membership';
import { MAX_CANDIDATES, MAX_GOSSIP_PER_ANSWER } from '../../../src/membership/member-table';
import { ManualClock } from '../../support/fakes/mdns';

const CLUSTER = 'c'.repeat(64);
const SELF = 'a'.repeat(64);
const B = 'b'.repeat(64);
const timings = {
  heartbeatMs: 1000,
  suspectAfterMs: 3000,
  deadAfterMs: 10_000,
  forgetAfterMs: 60_000,
};

/** Peers that answer Hello while `up` says so; records who was dialled. */
class FakePeers {
  readonly up = new Map<string, HelloAnswer>();
  readonly dialled: { address: string; nodeId: string | undefined }[] = [];
  closed = 0;

  dial = (address: string, nodeId: string | undefined): Prober => {
    this.dialled.push({ address, nodeId });
    return {
      hello: () => {
        const answer = this.up.get(address);
        return answer === undefined
          ? Promise.reject(new UnavailableError(`peer ${address}: connection refused`))
          : Promise.resolve(answer);
      },
      close: () => {
        this.closed += 1;
      },
    };
  };
}

function setup() {
  const clock = new ManualClock();
  const peers = new FakePeers();
  const changes: string[] = [];
  const table = new MemberTable({
    selfNodeId: SELF,
    clusterId: CLUSTER,
    dial: peers.dial,
    timings,
    clock,
    log: silentLogger(),
    onState: (address, state, was) => changes.push(`${address} ${was ?? '-'} -> ${state}`),
  });
  table.start();
  return { clock, peers, table, changes };
}

const states = (table: MemberTable) => table.members().map((m) => [m.name, m.state]);

it('a peer that answers is alive; silent, suspect then dead; answering again, alive', async () => {
  const { clock, peers, table } = setup();
  peers.up.set('10.0.0.2:7447', { nodeId: B, nodeName: 'node-b', clusterId: CLUSTER });
  table.add({ address: '10.0.0.2:7447', nodeId: B, name: 'node-b' });
  await clock.advance(0);
  expect(table.members()).toEqual([
    {
      nodeId: B,
      name: 'node-b',
      address: '10.0.0.2:7447',
      state: 'alive',
      lastSeenMs: clock.now(),
    },
  ]);
  const seen = clock.now();
  peers.up.delete('10.0.0.2:7447');
  await clock.advance(2000);
  expect(states(table)).toEqual([['node-b', 'alive']]);
  await clock.advance(1000);
  expect(states(table)).toEqual([['node-b', 'suspect']]);
  await clock.advance(7000);
  expect(states(table)).toEqual([['node-b', 'dead']]);
  expect(table.members()[0]?.lastSeenMs).toBe(seen);
  peers.up.set('10.0.0.2:7447', { nodeId: B, nodeName: 'node-b', clusterId: CLUSTER });
  await clock.advance(1000);
  expect(states(table)).toEqual([['node-b', 'alive']]);
  table.close();
});

it('tells each change of state once, with the address', async () => {
  const { clock, peers, table, changes } = setup();
  peers.up.set('10.0.0.2:7447', { nodeId: B, nodeName: 'node-b', clusterId: CLUSTER });
  table.add({ address: '10.0.0.2:7447', nodeId: B, name: 'node-b' });
  await clock.advance(0);
  peers.up.delete('10.0.0.2:7447');
  await clock.advance(11_000);
  peers.up.set('10.0.0.2:7447', { nodeId: B, nodeName: 'node-b', clusterId: CLUSTER });
  await clock.advance(2000);
  expect(changes).toEqual([
    '10.0.0.2:7447 - -> alive',
    '10.0.0.2:7447 alive -> suspect',
    '10.0.0.2:7447 suspect -> dead',
    '10.0.0.2:7447 dead -> alive',
  ]);
  table.close();
});

it('a static peer is listed once it answers, under the id and name it gave', async () => {
  const { clock, peers, table } = setup();
  table.add({ address: '10.0.0.2:7447' });
  expect(table.members()).toEqual([]);
  peers.up.set('10.0.0.2:7447', { nodeId: B, nodeName: 'node-b', clusterId: CLUSTER });
  await clock.advance(1000);
  expect(states(table)).toEqual([['node-b', 'alive']]);
  table.close();
});

it('drops a peer that turns out to be this node, and ignores other clusters', async () => {
  const { clock, peers, table } = setup();
  peers.up.set('10.0.0.1:7447', { nodeId: SELF, nodeName: 'me', clusterId: CLUSTER });
  peers.up.set('10.0.0.3:7447', { nodeId: B, nodeName: 'x', clusterId: 'e'.repeat(64) });
  table.add({ address: '10.0.0.1:7447' });
  table.add({ address: '10.0.0.3:7447' });
  table.add({ address: '10.0.0.4:7447', nodeId: SELF });
  await clock.advance(1000);
  expect(table.members()).toEqual([]);
  expect(peers.dialled.map((d) => d.address)).toEqual(['10.0.0.1:7447', '10.0.0.3:7447']);
  table.close();
  expect(peers.closed).toBe(2); // the self entry when it was dropped, the other on close
});

it('a node known at two addresses is listed once, by its latest answer', async () => {
  const { clock, peers, table } = setup();
  peers.up.set('10.0.0.2:7447', { nodeId: B, nodeName: 'node-b', clusterId: CLUSTER });
  table.add({ address: '10.0.0.2:7447', nodeId: B });
  table.add({ address: '192.168.0.2:7447', nodeId: B });
  await clock.advance(1000);
  expect(table.members().map((m) => [m.address, m.state])).toEqual([['10.0.0.2:7447', 'alive']]);
  table.close();
});

it('passes on who left from Hello answers, forgets a node that left, and never adds it again', async () => {
  const clock = new ManualClock();
  const peers = new FakePeers();
  const revoked = new Set<string>();
  const heard: string[][] = [];
  const C = 'd'.repeat(64);
  const leaveOfC = {
    nodeId: C,
    certificate: Buffer.from('cert'),
    signature: Buffer.from('sig'),
    byCa: false,
  };
  const table = new MemberTable({
    selfNodeId: SELF,
    clusterId: CLUSTER,
    dial: peers.dial,
    timings,
    clock,
    log: silentLogger(),
    isRevoked: (id) => revoked.has(id),
    onRevoked: (proofs, from) => heard.push([...proofs.map((p) => p.nodeId), `from ${from}`]),
  });
  table.start();
  peers.up.set('10.0.0.2:7447', {
    nodeId: B,
    nodeName: 'node-b',
    clusterId: CLUSTER,
    left: [leaveOfC],
  });
  peers.up.set('10.0.0.3:7447', { nodeId: C, nodeName: 'node-c', clusterId: CLUSTER });
  table.add({ address: '10.0.0.2:7447', nodeId: B });
  table.add({ address: '10.0.0.3:7447', nodeId: C });
  await clock.advance(0);
  // Handed on as they came: LeftMembers checks the proofs.
  expect(heard).toEqual([[C, `from ${B}`]]);
  expect(states(table)).toEqual([
    ['node-b', 'alive'],
    ['node-c', 'alive'],
  ]);
  revoked.add(C);
  table.forget(C);
  expect(states(table)).toEqual([['node-b', 'alive']]);
  table.add({ address: '10.0.0.3:7447', nodeId: C });
  // An address added without an id that turns out to be the node that left goes too.
  table.add({ address: '10.0.0.4:7447' });
  peers.up.set('10.0.0.4:7447', { nodeId: C, nodeName: 'node-c', clusterId: CLUSTER });
  await clock.advance(2000);
  expect(states(table)).toEqual([['node-b', 'alive']]);
  expect(peers.dialled.filter((d) => d.address === '10.0.0.3:7447')).toHaveLength(1);
  table.close();
});

it("dials the members a peer's Hello answer names that it does not know yet, once", async () => {
  const { clock, peers, table } = setup();
  const C = 'e'.repeat(64);
  peers.up.set('10.0.0.2:7447', {
    nodeId: B,
    nodeName: 'node-b',
    clusterId: CLUSTER,
    members: [
      { nodeId: B, nodeName: 'node-b', address: '10.0.0.22:7447' },
      { nodeId: C, nodeName: 'node-c', address: '10.0.0.3:7447' },
      { nodeId: SELF, nodeName: 'me', address: '10.0.0.1:7447' },
      { nodeId: 'f'.repeat(64), nodeName: 'nowhere', address: '' },
    ],
  });
  peers.up.set('10.0.0.3:7447', { nodeId: C, nodeName: 'node-c', clusterId: CLUSTER });
  table.add({ address: '10.0.0.2:7447', nodeId: B });
  await clock.advance(0);
  await clock.advance(1000);
  expect(states(table)).toEqual([
    ['node-b', 'alive'],
    ['node-c', 'alive'],
  ]);
  await clock.advance(3000);
  // Each member is dialled at one address only, however often it is named.
  expect(peers.dialled.map((d) => d.address)).toEqual(['10.0.0.2:7447', '10.0.0.3:7447']);
  table.close();
});

it("a member's Hello answers listing thousands of made-up members fill the free candidate room once, and churn nothing", async () => {
  const { clock, peers, table } = setup();
  const members = Array.from({ length: 50_000 }, (_, i) => ({
    nodeId: i.toString(16).padStart(64, 'd'),
    nodeName: `made-up-${i}`,
    address: `10.8.${i >> 8}.${i & 255}:7447`,
  }));
  peers.up.set('10.0.0.2:7447', { nodeId: B, nodeName: 'node-b', clusterId: CLUSTER, members });
  table.add({ address: '10.0.0.2:7447', nodeId: B, name: 'node-b' });
  await clock.advance(0);
  // The member, and made-up candidates up to the free room (each a dial): not 50,000 channels.
  expect(peers.dialled).toHaveLength(1 + MAX_CANDIDATES);
  expect(MAX_CANDIDATES).toBeLessThan(MAX_GOSSIP_PER_ANSWER);
  expect(states(table)).toEqual([['node-b', 'alive']]);
  // Heartbeats go on, each answer naming the same 50,000: no dial and no close more.
  await clock.advance(timings.heartbeatMs * 3);
  expect(peers.dialled).toHaveLength(1 + MAX_CANDIDATES);
  expect(peers.closed).toBe(0);
  expect(states(table)).toEqual([['node-b', 'alive']]);
  table.close();
});

it('adverts that never answer stay candidates: bounded, never listed, dropped after three dead-afters', async () => {
  const { clock, peers, table, changes } = setup();
  // Anyone on the LAN can advertise the (public) cluster id, at as many addresses as it likes.
  for (let i = 0; i < 200; i++) {
    table.add({
      address: `10.9.${i >> 8}.${i & 255}:7447`,
      nodeId: i.toString(16).padStart(64, 'e'),
    });
  }
  await clock.advance(0);
  expect(table.members()).toEqual([]);
  expect(peers.closed).toBe(200 - MAX_CANDIDATES);
  // A real member still gets in (the oldest candidate makes room), and is listed once it answers.
  peers.up.set('10.0.0.2:7447', { nodeId: B, nodeName: 'node-b', clusterId: CLUSTER });
  table.add({ address: '10.0.0.2:7447', nodeId: B, name: 'node-b' });
  await clock.advance(1000);
  expect(states(table)).toEqual([['node-b', 'alive']]);
  await clock.advance(3 * timings.deadAfterMs);
  expect(peers.closed).toBe(200 - MAX_CANDIDATES + MAX_CANDIDATES);
  const dialledBefore = peers.dialled.length;
  await clock.advance(5000);
  // Only the member is asked now (the dial happened once; no new dials).
  expect(peers.dialled.length).toBe(dialledBefore);
  expect(states(table)).toEqual([['node-b', 'alive']]);
  // Nor are their states news: only the member's.
  expect(changes).toEqual(['10.0.0.2:7447 - -> alive']);
});

it('a dead member is listed as dead until --forget-after, then forgotten; a static peer never is', async () => {
  const { clock, peers, table } = setup();
  const C = 'd'.repeat(64);
  peers.up.set('10.0.0.2:7447', { nodeId: B, nodeName: 'node-b', clusterId: CLUSTER });
  peers.up.set('10.0.0.3:7447', { nodeId: C, nodeName: 'node-c', clusterId: CLUSTER });
  table.add({ address: '10.0.0.2:7447', nodeId: B });
  table.add({ address: '10.0.0.3:7447', pinned: true });
  await clock.advance(1000);
  peers.up.clear();
  await clock.advance(timings.deadAfterMs + 1000);
  expect(states(table)).toEqual([
    ['node-b', 'dead'],
    ['node-c', 'dead'],
  ]);
  await clock.advance(timings.forgetAfterMs);
  expect(states(table)).toEqual([['node-c', 'dead']]);
  // The static peer is still asked, and is alive again at its first answer.
  peers.up.set('10.0.0.3:7447', { nodeId: C, nodeName: 'node-c', clusterId: CLUSTER });
  await clock.advance(1000);
  expect(states(table)).toEqual([['node-c', 'alive']]);
});
