import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, type NetworkInterfaceInfo } from 'node:os';
import { join } from 'node:path';
import { resolveAgentConfig } from '../../../src/config/agent-config';
import { checkClusterConfig } from '../../../src/config/cluster-config';

const v4 = (address: string, internal: boolean): NetworkInterfaceInfo => ({
  address,
  netmask: '255.255.255.0',
  family: 'IPv4',
  mac: '00:00:00:00:00:00',
  internal,
  cidr: `${address}/24`,
});
const interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = {
  lo: [v4('127.0.0.1', true)],
  eth0: [
    { ...v4('fe80::1', false), family: 'IPv6', scopeid: 2, netmask: 'ffff:ffff:ffff:ffff::' },
    v4('192.168.1.20', false),
  ],
};

describe('the cluster settings', () => {
  it('default to port 7447 on every address, the first LAN IPv4, mDNS on, 1s/3s/10s/24h', () => {
    expect(checkClusterConfig({}, interfaces)).toEqual({
      listen: '0.0.0.0:7447',
      advertise: '192.168.1.20',
      advertiseGiven: false,
      mdns: true,
      peers: [],
      heartbeatMs: 1000,
      suspectAfterMs: 3000,
      deadAfterMs: 10_000,
      forgetAfterMs: 24 * 3600_000,
    });
  });

  it('take repeated and comma-separated peers, mdns off, and an advertise address', () => {
    const config = checkClusterConfig(
      {
        peers: ['10.0.0.2:7447', '10.0.0.3:7447,node-d.lan:7000'],
        mdns: 'off',
        advertise: '10.0.0.1',
      },
      interfaces,
    );
    expect(config).toMatchObject({
      peers: ['10.0.0.2:7447', '10.0.0.3:7447', 'node-d.lan:7000'],
      mdns: false,
      advertise: '10.0.0.1',
      advertiseGiven: true,
    });
  });

  it.each([
    [{ listen: '7447' }, /^--listen "7447": .* \(expected HOST:PORT/],
    [{ advertise: 'node-a' }, /^--advertise: expected an IP address/],
    [{ peers: ['10.0.0.2'] }, /^--peer "10.0.0.2": the port is missing/],
    [{ mdns: 'maybe' }, /^--mdns: expected on or off, got "maybe"/],
    [{ heartbeat: 'fast' }, /^--heartbeat: "fast": a number followed by/],
    [{ suspectAfter: '20s' }, /^--heartbeat, --suspect-after, --dead-after: expected heartbeat </],
    [{ forgetAfter: '5s' }, /^--forget-after: expected longer than --dead-after \(10s\), got 5s$/],
  ])('refuse %j with a message naming the flag', (settings, message) => {
    expect(() => checkClusterConfig(settings, interfaces)).toThrow(message);
  });
});

describe('cluster settings through resolveAgentConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'budgie-config-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads them from the config file, flags winning', async () => {
    const file = join(dir, 'config.yaml');
    await writeFile(
      file,
      'listen: 0.0.0.0:7000\npeers:\n  - 10.0.0.2:7447\nmdns: "off"\nheartbeat: 500ms\n',
    );
    const config = await resolveAgentConfig(
      { listen: '127.0.0.1:7001', advertise: '10.0.0.1' },
      file,
    );
    expect(config.cluster).toMatchObject({
      listen: '127.0.0.1:7001',
      peers: ['10.0.0.2:7447'],
      mdns: false,
      heartbeatMs: 500,
    });
  });

  it('names a bad peers entry in the file', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'peers: 7\n');
    await expect(resolveAgentConfig({}, file)).rejects.toThrow(
      `${file}: peers: expected a list of HOST:PORT strings`,
    );
  });

  it('reads max_import and forget_after from the file, flags winning, and names a bad size', async () => {
    const file = join(dir, 'limits.yaml');
    await writeFile(file, 'max_import: 2GiB\nforget_after: 1h\n');
    const fromFile = await resolveAgentConfig({}, file);
    expect(fromFile.maxImport).toBe('2GiB');
    expect(fromFile.cluster.forgetAfterMs).toBe(3600_000);
    expect((await resolveAgentConfig({ maxImport: '100M' }, file)).maxImport).toBe('100M');
    await expect(resolveAgentConfig({ maxImport: 'lots' }, file)).rejects.toThrow(
      'max import: expected a size such as 32GiB, 512MiB or 1073741824, got "lots"',
    );
  });
});
