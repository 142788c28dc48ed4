import { execFile } from 'node:child_process';
import { access, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { silentLogger } from '../../src/log';
import { CniNetwork, type ReplicaNetwork } from '../../src/network';
import { netnsPrefix, networkName } from '../../src/network/naming';
import {
  askFromHost,
  askFromNetns,
  freeSubnet24,
  inNetns,
  ipForwarding,
  ipv4Addresses,
  natRulesMentioning,
  netnsNames,
  randomHex,
  removeTestNetwork,
  setIpForwarding,
  startServer,
  type NetnsServer,
} from '../support/netns';

const run = promisify(execFile);

/**
 * The real plugins from /usr/lib/cni, as root, on a bridge, subnet and namespace prefix of this
 * run's own. Traffic goes only to the namespaces this test creates.
 */
describe('CniNetwork with the standard CNI plugins', () => {
  const nodeName = `nettest-${randomHex(8)}`;
  const bridge = `bt${randomHex(6)}`;
  const network = networkName(bridge);
  const prefix = netnsPrefix(nodeName);
  let stateDir = '';
  let subnet: string;
  let forwardingBefore: string;
  let servers: NetnsServer[] = [];
  const create = () =>
    new CniNetwork({ stateDir: stateDir, nodeName, bridge, subnet, log: silentLogger() });
  const leaseFile = (r: ReplicaNetwork) => join(stateDir, 'cni', 'ipam', network, r.ip);
  const exists = (path: string) =>
    access(path).then(
      () => true,
      () => false,
    );

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'budgie-nettest-'));
    subnet = await freeSubnet24();
    forwardingBefore = await ipForwarding();
  });

  afterEach(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    servers = [];
  });

  afterAll(async () => {
    if (stateDir === '') return; // beforeAll failed before creating anything
    const problems = await removeTestNetwork(prefix, bridge, network);
    // The bridge plugin turns forwarding on for its gateway; turn it back off unless other CNI
    // networks (nat chains) on this host may need it.
    const otherCni = await natRulesMentioning('CNI-');
    if (forwardingBefore === '0' && otherCni.length === 0) await setIpForwarding('0');
    await rm(stateDir, { recursive: true, force: true });
    expect(problems).toEqual([]);
  });

  it('gives two replicas their own namespace and address on the bridge', async () => {
    const net = create();
    const a = await net.attach('replica-a');
    const b = await net.attach('replica-b');
    const base = subnet.replace(/\.0\/24$/, '.');
    for (const r of [a, b]) {
      expect(r).toMatchObject({ prefixLength: 24, gateway: `${base}1`, interface: 'eth0', bridge });
      expect(r.ip.startsWith(base)).toBe(true);
      expect(r.netnsPath.startsWith(`/var/run/netns/${prefix}`)).toBe(true);
      expect((await ipv4Addresses(r.netnsPath)).sort()).toEqual([
        `eth0 ${r.ip}/24`,
        'lo 127.0.0.1/8',
      ]);
      expect(await exists(leaseFile(r))).toBe(true);
    }
    expect(a.ip).not.toBe(b.ip);
    expect(a.netnsPath).not.toBe(b.netnsPath);
    expect(await natRulesMentioning(`id: \\"replica-a\\"`)).not.toEqual([]);
  });

  it('lets the host and the other replica reach a replica', async () => {
    const net = create();
    const a = await net.attach('replica-a'); // already attached: the same network again
    const b = await net.attach('replica-b');
    servers.push(await startServer(a.netnsPath, 8080));
    expect(await askFromHost(a.ip, 8080, 'from-host')).toBe('pong:from-host\n');
    expect(await askFromNetns(b.netnsPath, a.ip, 8080, 'from-b')).toBe('pong:from-b\n');
    // hairpin: a replica reaches its own address through the bridge
    expect(await askFromNetns(a.netnsPath, a.ip, 8080, 'from-a')).toBe('pong:from-a\n');
  });

  it('releases the address, namespace and nat rules on detach, and detaches twice', async () => {
    const net = create();
    const b = await net.attach('replica-b');
    await net.detach('replica-b');
    expect(await exists(leaseFile(b))).toBe(false);
    expect(await exists(b.netnsPath)).toBe(false);
    expect((await netnsNames()).filter((n) => b.netnsPath.endsWith(n))).toEqual([]);
    expect(await natRulesMentioning(`id: \\"replica-b\\"`)).toEqual([]);
    await net.detach('replica-b');
    expect(await net.list()).toEqual(['replica-a']);
  });

  it('masquerades outbound traffic: a host the replicas have no route back to answers them', async () => {
    // "Outside" is a namespace of this test's own behind a veth from the host; it has no route to
    // the replica subnet, so only a reply to the host's address (masquerade) can come back.
    const tag = randomHex(6);
    const outside = `bo-${tag}`;
    const third = 16 + Math.floor(Math.random() * 200);
    const [hostIp, outsideIp] = [`10.190.${third}.1`, `10.190.${third}.2`];
    const sh = (args: string[]) => run('ip', args);
    const net = create();
    const r = await net.attach('replica-out');
    try {
      await sh(['netns', 'add', outside]);
      await sh(['link', 'add', `vo${tag}`, 'type', 'veth', 'peer', 'name', `vi${tag}`]);
      await sh(['link', 'set', `vi${tag}`, 'netns', outside]);
      await sh(['addr', 'add', `${hostIp}/24`, 'dev', `vo${tag}`]);
      await sh(['link', 'set', `vo${tag}`, 'up']);
      const path = `/var/run/netns/${outside}`;
      await inNetns(path, ['ip', 'addr', 'add', `${outsideIp}/24`, 'dev', `vi${tag}`]);
      await inNetns(path, ['ip', 'link', 'set', `vi${tag}`, 'up']);
      servers.push(await startServer(path, 9090, 'address'));
      expect(await askFromNetns(r.netnsPath, outsideIp, 9090, 'who')).toBe(`seen:${hostIp}\n`);
    } finally {
      await net.detach('replica-out');
      await sh(['netns', 'delete', outside]).catch(() => undefined);
    }
  });

  it('finds and releases what a crashed agent left, from a new instance on the same state', async () => {
    const crashed = create();
    const c = await crashed.attach('replica-c');
    // the agent dies here; a new one starts on the same state dir
    const restarted = create();
    expect((await restarted.list()).sort()).toEqual(['replica-a', 'replica-c']);
    for (const id of await restarted.list()) await restarted.detach(id);
    expect(await restarted.list()).toEqual([]);
    expect(await exists(leaseFile(c))).toBe(false);
    expect(await readdir(join(stateDir, 'cni', 'ipam', network))).not.toContain(c.ip);
    expect((await netnsNames()).filter((n) => n.startsWith(prefix))).toEqual([]);
    expect(await natRulesMentioning(`name: \\"${network}\\"`)).toEqual([]);
  });
});
