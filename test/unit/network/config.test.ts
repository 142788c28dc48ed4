import { InvalidInputError } from '../../../src/errors';
import { parseCidr } from '../../../src/network/cidr';
import { attachments, bridgeList, pluginInput } from '../../../src/network/config';
import {
  checkBridgeName,
  checkReplicaId,
  netnsName,
  netnsPrefix,
  networkName,
} from '../../../src/network/naming';

const settings = {
  bridge: 'budgie0',
  subnet: parseCidr('10.213.0.0/16') ?? { base: 0, prefix: 0 },
  ipamDir: '/state/cni/ipam',
};

describe('network configuration', () => {
  it('plugs the replica into the bridge as gateway, with NAT, hairpin and leases in the state dir', () => {
    expect(bridgeList('1.0.0', settings)).toEqual({
      cniVersion: '1.0.0',
      name: 'budgie-budgie0',
      plugins: [
        {
          type: 'bridge',
          bridge: 'budgie0',
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: '10.213.0.0/16' }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: '/state/cni/ipam',
          },
        },
      ],
    });
  });

  it('attaches loopback first, then the bridge network on eth0', () => {
    const list = attachments('0.4.0', settings);
    expect(list.map((a) => [a.ifName, a.list.cniVersion, a.list.plugins[0]?.type])).toEqual([
      ['lo', '0.4.0', 'loopback'],
      ['eth0', '0.4.0', 'bridge'],
    ]);
  });

  it('gives each plugin the list version and name, plus the previous result when there is one', () => {
    const list = bridgeList('1.0.0', settings);
    const plugin = list.plugins[0] ?? { type: 'none' };
    const first = JSON.parse(pluginInput(list, plugin)) as Record<string, unknown>;
    expect(first).toMatchObject({ cniVersion: '1.0.0', name: 'budgie-budgie0', type: 'bridge' });
    expect(first).not.toHaveProperty('prevResult');
    const prev = { cniVersion: '1.0.0', ips: [] };
    expect(JSON.parse(pluginInput(list, plugin, prev))).toMatchObject({ prevResult: prev });
  });
});

describe('names', () => {
  it('prefixes namespaces per node, and never lets replica ids with a shared start collide', () => {
    const a = netnsName('node-a', 'web-frontend-replica-0');
    const b = netnsName('node-a', 'web-frontend-replica-1');
    expect(a).toMatch(/^budgie-[0-9a-f]{8}-[0-9a-f]{12}$/);
    expect(a.startsWith(netnsPrefix('node-a'))).toBe(true);
    expect(a).not.toBe(b);
    expect(netnsName('node-b', 'web-frontend-replica-0')).not.toBe(a);
    expect(netnsName('node-a', 'web-frontend-replica-0')).toBe(a);
    expect(networkName('bt123456')).toBe('budgie-bt123456');
  });

  it('accepts bridge names the kernel accepts (at most 15 characters)', () => {
    expect(() => {
      checkBridgeName('budgie0');
    }).not.toThrow();
    expect(() => {
      checkBridgeName('a'.repeat(15));
    }).not.toThrow();
    expect(() => {
      checkBridgeName('a'.repeat(16));
    }).toThrow(InvalidInputError);
    expect(() => {
      checkBridgeName('br/0');
    }).toThrow(/not a valid interface name/);
  });

  it('accepts replica ids CNI accepts as container ids', () => {
    expect(() => {
      checkReplicaId('hello.web-0_1');
    }).not.toThrow();
    for (const bad of ['', '-x', 'a/b', 'a b', '../x', 'x'.repeat(129)]) {
      expect(() => {
        checkReplicaId(bad);
      }).toThrow(InvalidInputError);
    }
  });
});
