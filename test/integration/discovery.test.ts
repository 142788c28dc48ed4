import { rm } from 'node:fs/promises';
import { PROTOCOL_VERSION, type MdnsPeer } from '../../src/discovery';
import { createBridgeLab, type BridgeLab } from '../support/bridge-lab';
import {
  compileDiscovery,
  startDiscoveryNode,
  type DiscoveryNode,
  type NodeLine,
} from '../support/discovery-node';
import { inNetns, randomHex } from '../support/netns';

/** Advert TTL: short, so a killed node is noticed in seconds rather than the default 2 min. */
const TTL_SECONDS = 2;
const CLUSTER = 'c0ffee00c0ffee00';

let lab: BridgeLab | undefined;
let jsDir: string | undefined;
const nodes: DiscoveryNode[] = [];

const peerEvent =
  (
    event: 'found' | 'updated' | 'lost',
    nodeId: string,
    extra: (p: MdnsPeer) => boolean = () => true,
  ) =>
  (line: NodeLine) =>
    line.event === event && line.peer.nodeId === nodeId && extra(line.peer);

beforeAll(async () => {
  [lab, jsDir] = await Promise.all([createBridgeLab(3, 'disc'), compileDiscovery()]);
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill()));
  const problems = (await lab?.remove()) ?? [];
  if (jsDir !== undefined) await rm(jsDir, { recursive: true, force: true });
  expect(problems).toEqual([]);
});

it('nodes in separate namespaces find, update and lose each other over mDNS', async () => {
  const hosts = lab!.hosts;
  const spawnedAt = Date.now();
  for (const [i, host] of hosts.entries()) {
    nodes.push(
      startDiscoveryNode(jsDir!, host.netnsPath, {
        nodeId: randomHex(16),
        name: `node-${'abc'[i]}`,
        address: host.address,
        ttlSeconds: TTL_SECONDS,
      }),
    );
  }
  const [a, b, c] = nodes as [DiscoveryNode, DiscoveryNode, DiscoveryNode];
  const ready = await Promise.all(
    nodes.map((n) => n.waitFor((l) => l.event === 'ready', 10_000, 'ready')),
  );
  const allReady = Math.max(...ready.map((l) => l.t));

  // Each sees the other two, with the advert as sent and the address it came from.
  const latencies: number[] = [];
  for (const watcher of nodes) {
    for (const other of nodes.filter((n) => n !== watcher)) {
      const found = await watcher.waitFor(
        peerEvent('found', other.nodeId),
        2000,
        `found ${other.name}`,
      );
      latencies.push(found.t - allReady);
      expect(found.event === 'found' && found.peer).toEqual({
        source: 'mdns',
        key: other.nodeId,
        nodeId: other.nodeId,
        clusterId: undefined,
        name: other.name,
        version: PROTOCOL_VERSION,
        addresses: [other.address],
        port: 7447,
      });
    }
    expect(watcher.lines.filter((l) => 'peer' in l && l.peer.nodeId === watcher.nodeId)).toEqual(
      [],
    );
  }
  const lastFound = allReady + Math.max(...latencies);
  console.log(
    `all found ${Math.max(...latencies)} ms after the last node was ready, ${lastFound - spawnedAt} ms after spawning node processes`,
  );

  // The one-shot helper (`budgie chirp`) lists all three within its second.
  const started = Date.now();
  const listed = await oneShot(lab!.hosts[0]!.netnsPath, 1000);
  expect(Date.now() - started).toBeLessThan(3000);
  expect(listed.map((p) => p.name).sort()).toEqual(['node-a', 'node-b', 'node-c']);

  // B joins a cluster: the others see an update carrying the cluster id.
  b.send(`cluster ${CLUSTER}`);
  const sent = await b.waitFor((l) => l.event === 'updated-self', 2000, 'its own update');
  for (const watcher of [a, c]) {
    const updated = await watcher.waitFor(
      peerEvent('updated', b.nodeId, (p) => p.clusterId === CLUSTER),
      2000,
      'update of node-b',
    );
    console.log(`${watcher.name} saw node-b's cluster id after ${updated.t - sent.t} ms`);
  }

  // C closes: its goodbye makes A and B drop it at once, not after the TTL.
  c.send('close');
  const closed = await c.waitFor((l) => l.event === 'closed', 2000, 'closed');
  for (const watcher of [a, b]) {
    const lost = await watcher.waitFor(peerEvent('lost', c.nodeId), 1000, 'goodbye of node-c');
    expect(lost.t - closed.t).toBeLessThan(1000);
  }

  // B is killed: no goodbye, so A drops it when its records expire unrefreshed.
  const killedAt = Date.now();
  await b.kill();
  const lost = await a.waitFor(
    peerEvent('lost', b.nodeId),
    (TTL_SECONDS + 2) * 1000,
    'expiry of node-b',
  );
  console.log(`node-a lost killed node-b after ${lost.t - killedAt} ms (TTL ${TTL_SECONDS} s)`);
  expect(lost.t - killedAt).toBeLessThanOrEqual(TTL_SECONDS * 1000 + 500);
  expect(a.lines.filter((l) => l.event === 'lost').length).toBe(2); // A itself stayed up throughout
});

/** Runs discover() in a namespace, as `budgie chirp` will, and returns what it listed. */
async function oneShot(netnsPath: string, timeoutMs: number): Promise<MdnsPeer[]> {
  const script = `
    const d = require(process.argv[1] + '/discovery/index.js');
    const log = require(process.argv[1] + '/log.js').silentLogger();
    d.discover({ timeoutMs: Number(process.argv[2]), log }).then((peers) => console.log(JSON.stringify(peers)));`;
  const out = await inNetns(netnsPath, [process.execPath, '-e', script, jsDir!, String(timeoutMs)]);
  return JSON.parse(out) as MdnsPeer[];
}
