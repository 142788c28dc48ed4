import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FailedPreconditionError,
  InternalError,
  InvalidInputError,
  PermissionDeniedError,
  UnavailableError,
} from '../../../src/errors';
import { silentLogger } from '../../../src/log';
import { CniNetwork, type CniNetworkOptions } from '../../../src/network';
import { cniFailure, FakeHost, ok } from './fake-host';

let stateDir: string;
let host: FakeHost;

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'budgie-network-'));
  host = new FakeHost();
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

const network = (options: Partial<CniNetworkOptions> = {}) =>
  new CniNetwork({ stateDir, nodeName: 'node-a', log: silentLogger(), host, ...options });

describe('CniNetwork.attach', () => {
  it('creates a namespace, runs loopback then bridge ADD, and returns the address', async () => {
    const net = network();
    const replica = await net.attach('web-0');
    expect(replica).toEqual({
      replicaId: 'web-0',
      netnsPath: expect.stringMatching(/^\/var\/run\/netns\/budgie-[0-9a-f]{8}-[0-9a-f]{12}$/),
      ip: '10.213.0.2',
      prefixLength: 16,
      gateway: '10.213.0.1',
      interface: 'eth0',
      bridge: 'budgie0',
    });
    expect([...host.namespaces].map((n) => `/var/run/netns/${n}`)).toEqual([replica.netnsPath]);
    expect(host.commands()).toEqual(['loopback ADD lo', 'bridge ADD eth0']);
    const bridgeCall = host.calls[1];
    expect(bridgeCall?.env).toEqual({
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: 'web-0',
      CNI_NETNS: replica.netnsPath,
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/usr/lib/cni:/opt/cni/bin',
    });
    expect(bridgeCall?.config).toMatchObject({
      cniVersion: '1.0.0',
      name: 'budgie-budgie0',
      ipam: { dataDir: join(stateDir, 'cni', 'ipam') },
    });
  });

  it('uses the configured bridge, subnet and plugin dirs', async () => {
    host.installed = new Set(['/opt/cni/bin/loopback', '/opt/cni/bin/bridge', '/x/host-local']);
    const net = network({
      bridge: 'bt42',
      subnet: '10.99.1.0/24',
      pluginDirs: ['/opt/cni/bin', '/x'],
    });
    const replica = await net.attach('web-0');
    expect(replica).toMatchObject({ ip: '10.99.1.2', bridge: 'bt42' });
    expect(host.calls[1]?.config).toMatchObject({ bridge: 'bt42', name: 'budgie-bt42' });
    expect(host.calls[1]?.env['CNI_PATH']).toBe('/opt/cni/bin:/x');
  });

  it('picks a free /16 when a host route uses the default', async () => {
    host.addRoute('wg0', '10.213.0.0', '255.255.0.0');
    expect((await network().attach('web-0')).ip).toBe('10.214.0.2');
  });

  it('speaks 0.4.0 to plugins that do not know 1.0.0', async () => {
    host.supportedVersions = ['0.3.1', '0.4.0'];
    await network().attach('web-0');
    expect(host.calls.map((c) => c.config['cniVersion'])).toEqual(['0.4.0', '0.4.0']);
  });

  it('returns the recorded network when called again, without running plugins', async () => {
    const net = network();
    const first = await net.attach('web-0');
    const again = await network().attach('web-0');
    expect(again).toEqual(first);
    expect(host.commands()).toEqual(['loopback ADD lo', 'bridge ADD eth0']);
  });

  it('serialises calls for one replica', async () => {
    const net = network();
    const [a, b] = await Promise.all([net.attach('web-0'), net.attach('web-0')]);
    expect(a).toEqual(b);
    expect(host.namespaces.size).toBe(1);
  });

  it('undoes everything when a plugin fails, and reports the plugin error', async () => {
    host.plugins.set('bridge', (call) =>
      call.env['CNI_COMMAND'] === 'DEL' ? ok({}) : cniFailure(999, 'failed to set bridge addr'),
    );
    const net = network();
    const failure = net.attach('web-0');
    await expect(failure).rejects.toThrow(FailedPreconditionError);
    await expect(failure).rejects.toThrow(
      'CNI plugin bridge (ADD) for replica web-0 failed: failed to set bridge addr [CNI error 999]',
    );
    expect(host.commands()).toEqual([
      'loopback ADD lo',
      'bridge ADD eth0',
      'bridge DEL eth0',
      'loopback DEL lo',
    ]);
    expect(host.namespaces.size).toBe(0);
    expect(await net.list()).toEqual([]);
  });

  it('undoes everything when aborted, and rejects with the abort reason', async () => {
    const controller = new AbortController();
    host.plugins.set('loopback', (call) => {
      if (call.env['CNI_COMMAND'] === 'ADD') controller.abort(new Error('replica removed'));
      return ok({ cniVersion: '1.0.0' });
    });
    const net = network();
    await expect(net.attach('web-0', controller.signal)).rejects.toThrow('replica removed');
    expect(host.commands()).toEqual(['loopback ADD lo', 'bridge DEL eth0', 'loopback DEL lo']);
    expect(host.namespaces.size).toBe(0);
  });

  it('kills a plugin that hangs, undoes the attach and reports a retryable error', async () => {
    host.plugins.set('bridge', (call, signal) =>
      call.env['CNI_COMMAND'] === 'DEL'
        ? ok({})
        : new Promise((_, reject) => {
            signal?.addEventListener('abort', () => {
              reject(new Error('killed'));
            });
          }),
    );
    const failure = network({ pluginTimeoutMs: 20 }).attach('web-0');
    await expect(failure).rejects.toThrow(
      new UnavailableError(
        'CNI plugin bridge (ADD) for replica web-0 did not finish within 0.02s and was killed',
      ),
    );
    await expect(failure).rejects.toHaveProperty('retryable', true);
    expect(host.namespaces.size).toBe(0);
  });

  it('reports a plugin that cannot be started', async () => {
    host.plugins.set('loopback', () => Promise.reject(new Error('spawn EACCES')));
    const failure = network().attach('web-0');
    await expect(failure).rejects.toThrow(InternalError);
    await expect(failure).rejects.toThrow(
      'could not run CNI plugin /usr/lib/cni/loopback: spawn EACCES',
    );
  });

  it('redoes an attach that a crash interrupted', async () => {
    host.plugins.set('bridge', () => Promise.reject(new Error('agent crashed')));
    host.plugins.set('loopback', (call) => {
      if (call.env['CNI_COMMAND'] === 'DEL') throw new Error('agent crashed');
      return ok({ cniVersion: '1.0.0' });
    });
    await expect(network().attach('web-0')).rejects.toThrow('agent crashed');
    expect(await network().list()).toEqual(['web-0']); // the rollback could not finish either

    const healthy = new FakeHost();
    healthy.namespaces.add([...host.namespaces][0] ?? '');
    host = healthy;
    const replica = await network().attach('web-0');
    expect(replica.ip).toBe('10.213.0.2');
    expect(host.commands()).toEqual([
      'bridge DEL eth0',
      'loopback DEL lo',
      'loopback ADD lo',
      'bridge ADD eth0',
    ]);
    expect(host.calls[0]?.config).not.toHaveProperty('prevResult'); // never finished: no result
  });

  it('refuses bad input and missing privileges before touching the host', async () => {
    expect(() => network({ bridge: 'a-very-long-bridge' })).toThrow(InvalidInputError);
    expect(() => network({ subnet: '10.213.0.1/16' })).toThrow(
      'network subnet "10.213.0.1/16" is not an IPv4 network like 10.213.0.0/16',
    );
    await expect(network().attach('../etc')).rejects.toThrow(InvalidInputError);
    host.privileged = false;
    await expect(network().attach('web-0')).rejects.toThrow(PermissionDeniedError);
    await expect(network().detach('web-0')).rejects.toThrow(PermissionDeniedError);
    expect(host.calls).toEqual([]);
  });

  it('names the apt package when a plugin is missing', async () => {
    host.installed.delete('/usr/lib/cni/bridge');
    await expect(network().attach('web-0')).rejects.toThrow(
      'CNI plugin bridge not found in /usr/lib/cni, /opt/cni/bin; install the plugins with: apt-get install containernetworking-plugins',
    );
    expect(host.namespaces.size).toBe(0);
  });
});

describe('CniNetwork.detach and list', () => {
  it('runs DEL in reverse with the cached results, then removes the namespace and record', async () => {
    const first = network();
    await first.attach('web-0');
    host.calls.length = 0;

    const afterRestart = network();
    await afterRestart.detach('web-0');
    expect(host.commands()).toEqual(['bridge DEL eth0', 'loopback DEL lo']);
    expect(host.calls[0]?.config['prevResult']).toMatchObject({
      ips: [{ address: '10.213.0.2/16', gateway: '10.213.0.1' }],
    });
    expect(host.calls[0]?.env['CNI_CONTAINERID']).toBe('web-0');
    expect(host.namespaces.size).toBe(0);
    expect(host.leases.size).toBe(0);
    expect(await readdir(join(stateDir, 'cni', 'replicas'))).toEqual([]);
  });

  it('is idempotent', async () => {
    const net = network();
    await net.attach('web-0');
    await net.detach('web-0');
    await net.detach('web-0');
    await network().detach('never-attached');
    expect(host.commands()).toEqual([
      'loopback ADD lo',
      'bridge ADD eth0',
      'bridge DEL eth0',
      'loopback DEL lo',
    ]);
  });

  it('keeps the record when DEL fails, so that detach can be retried', async () => {
    const net = network();
    await net.attach('web-0');
    host.plugins.set('bridge', () => cniFailure(11, 'iptables lock held'));
    await expect(net.detach('web-0')).rejects.toThrow(/iptables lock held/);
    expect(await net.list()).toEqual(['web-0']);
    expect(host.namespaces.size).toBe(1);
  });

  it('lists the replicas with network state, across instances', async () => {
    const net = network();
    await net.attach('web-0');
    await net.attach('web-1');
    expect((await network().list()).sort()).toEqual(['web-0', 'web-1']);
    expect(await network({ nodeName: 'node-b', stateDir: join(stateDir, 'b') }).list()).toEqual([]);
  });

  it('reports a damaged record instead of guessing', async () => {
    await mkdir(join(stateDir, 'cni', 'replicas'), { recursive: true });
    await writeFile(join(stateDir, 'cni', 'replicas', 'web-0.json'), '{"replicaId":');
    await expect(network().detach('web-0')).rejects.toThrow(
      /network record .*web-0.json is damaged/,
    );
  });

  it('writes records that name the namespace and the exact configuration used', async () => {
    const replica = await network().attach('web-0');
    const text = await readFile(join(stateDir, 'cni', 'replicas', 'web-0.json'), 'utf8');
    expect(JSON.parse(text)).toMatchObject({
      replicaId: 'web-0',
      netnsPath: replica.netnsPath,
      attachments: [
        { ifName: 'lo', list: { name: 'budgie-loopback' } },
        { ifName: 'eth0', list: { name: 'budgie-budgie0' }, result: { cniVersion: '1.0.0' } },
      ],
    });
  });
});
