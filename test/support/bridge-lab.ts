import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { freeSubnet24, inNetns, randomHex, removeTestNetwork } from './netns';

const run = promisify(execFile);

export interface LabHost {
  netns: string;
  /** /var/run/netns/NAME, for nsenter. */
  netnsPath: string;
  /** The host's address on the lab's link (its eth0). */
  address: string;
  /** The bridge side of the host's link, in the root namespace. */
  veth: string;
}

/**
 * Cuts a host off the lab's LAN (its link down, as a pulled cable) or connects it again. Its
 * processes keep running and see their peers go silent.
 */
export async function setLinkUp(host: LabHost, up: boolean): Promise<void> {
  await run('ip', ['link', 'set', host.veth, up ? 'up' : 'down']);
}

/** Network namespaces on one bridge: a LAN of `count` hosts that only the test can reach. */
export interface BridgeLab {
  hosts: LabHost[];
  bridge: string;
  /** Removes the namespaces (and with them the veths) and the bridge; lists what failed. */
  remove(): Promise<string[]>;
}

/**
 * Creates a bridge and `count` namespaces, each joined by a veth (eth0 inside) with an address in
 * a free 10.199.x.0/24 and a route for multicast, so mDNS works between them. Names carry a random
 * suffix so concurrent runs never meet. On failure, removes what it made and rethrows.
 */
export async function createBridgeLab(count: number, label = 'lab'): Promise<BridgeLab> {
  const suffix = randomHex(6);
  const bridge = `bb${suffix}`;
  const prefix = `budgie-${label}-${suffix}-`;
  const remove = () => removeTestNetwork(prefix, bridge, `budgie-${label}-${suffix}`);
  try {
    const subnet = await freeSubnet24();
    const base = subnet.split('.').slice(0, 3).join('.');
    await run('ip', ['link', 'add', bridge, 'type', 'bridge', 'mcast_snooping', '0']);
    await run('ip', ['link', 'set', bridge, 'up']);
    const hosts: LabHost[] = [];
    for (let i = 0; i < count; i++) {
      const netns = `${prefix}${i}`;
      const netnsPath = `/var/run/netns/${netns}`;
      const veth = `vb${suffix}${i}`;
      const address = `${base}.${10 + i}`;
      await run('ip', ['netns', 'add', netns]);
      await run('ip', [
        'link',
        'add',
        veth,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        netns,
      ]);
      await run('ip', ['link', 'set', veth, 'master', bridge, 'up']);
      await inNetns(netnsPath, ['ip', 'link', 'set', 'lo', 'up']);
      await inNetns(netnsPath, ['ip', 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      await inNetns(netnsPath, ['ip', 'link', 'set', 'eth0', 'up']);
      // No default route in the namespace: multicast needs one of its own to leave by eth0.
      await inNetns(netnsPath, ['ip', 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
      hosts.push({ netns, netnsPath, address, veth });
    }
    return { hosts, bridge, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}
