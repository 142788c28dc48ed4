import {
  FailedPreconditionError,
  InternalError,
  InvalidInputError,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
} from '../../../src/errors';
import {
  cniError,
  crashError,
  decodeCniError,
  missingPluginError,
} from '../../../src/network/cni-errors';
import { decodeResult, replicaNetworkFrom } from '../../../src/network/result';

/** What Debian's bridge plugin 1.1.1 printed for an ADD. */
const bridgeResult = {
  cniVersion: '1.0.0',
  interfaces: [
    { name: 'cnitry0', mac: '96:1e:f7:5f:e5:12' },
    { name: 'veth2e6fd11a', mac: '1a:cb:6f:6a:9c:16' },
    { name: 'eth0', mac: 'ce:d2:eb:a3:7c:bd', sandbox: '/var/run/netns/x' },
  ],
  ips: [{ interface: 2, address: '10.231.7.2/24', gateway: '10.231.7.1' }],
  routes: [{ dst: '0.0.0.0/0' }],
  dns: {},
};
const placement = { replicaId: 'r1', netnsPath: '/var/run/netns/x', ifName: 'eth0', bridge: 'b0' };

describe('CNI results', () => {
  it('reads the address, prefix and gateway of the interface inside the namespace', () => {
    const result = decodeResult(bridgeResult);
    expect(result).toBeDefined();
    expect(result && replicaNetworkFrom(result, placement)).toEqual({
      replicaId: 'r1',
      netnsPath: '/var/run/netns/x',
      ip: '10.231.7.2',
      prefixLength: 24,
      gateway: '10.231.7.1',
      interface: 'eth0',
      bridge: 'b0',
    });
  });

  it('reads 0.4.0 results (with ip versions) and skips IPv6 addresses', () => {
    const result = decodeResult({
      cniVersion: '0.4.0',
      interfaces: [{ name: 'eth0', sandbox: '/var/run/netns/x' }],
      ips: [
        { version: '6', interface: 0, address: 'fd00::2/64', gateway: 'fd00::1' },
        { version: '4', interface: 0, address: '10.1.0.5/16', gateway: '10.1.0.1' },
      ],
    });
    expect(result && replicaNetworkFrom(result, placement)).toMatchObject({
      ip: '10.1.0.5',
      prefixLength: 16,
      gateway: '10.1.0.1',
    });
  });

  it('rejects output that is not a result, and results without an IPv4 address', () => {
    expect(decodeResult(undefined)).toBeUndefined();
    expect(decodeResult({ ips: [] })).toBeUndefined();
    const noIp = decodeResult({ cniVersion: '1.0.0', interfaces: [], ips: [] });
    expect(() => noIp && replicaNetworkFrom(noIp, placement)).toThrow(
      new InternalError('CNI result for replica r1 has no IPv4 address on eth0'),
    );
  });
});

describe('CNI errors', () => {
  const call = { plugin: 'bridge', command: 'ADD', replicaId: 'web-0' };

  it('decodes the error body a plugin prints', () => {
    expect(decodeCniError('{"code":7,"msg":"bad","details":"more"}')).toEqual({
      code: 7,
      msg: 'bad',
      details: 'more',
    });
    expect(decodeCniError('panic: oops')).toBeUndefined();
    expect(decodeCniError('{"msg":"no code"}')).toBeUndefined();
  });

  it('maps spec codes to error kinds, in one line naming plugin, command and replica', () => {
    const err = cniError(call, { code: 7, msg: 'invalid\nconfig', details: 'bridge: x' });
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toBe(
      'CNI plugin bridge (ADD) for replica web-0 failed: invalid config bridge: x [CNI error 7]; check the network bridge and subnet settings',
    );
    expect(cniError(call, { code: 1, msg: 'v' })).toBeInstanceOf(FailedPreconditionError);
    expect(cniError(call, { code: 3, msg: 'gone' })).toBeInstanceOf(NotFoundError);
    expect(cniError(call, { code: 4, msg: 'env' })).toBeInstanceOf(InternalError);
    const later = cniError(call, { code: 11, msg: 'busy' });
    expect(later).toBeInstanceOf(UnavailableError);
    expect(later.retryable).toBe(true);
  });

  it('recognises permission and exhaustion failures among plugin-specific codes', () => {
    const denied = cniError(call, {
      code: 999,
      msg: 'failed to create bridge: operation not permitted',
    });
    expect(denied).toBeInstanceOf(PermissionDeniedError);
    const full = cniError(call, {
      code: 999,
      msg: 'failed to allocate for range 0: no IP addresses available in range set',
    });
    expect(full).toBeInstanceOf(FailedPreconditionError);
    expect(full.message).toMatch(/the subnet is full/);
    expect(cniError(call, { code: 999, msg: 'other' })).toBeInstanceOf(FailedPreconditionError);
  });

  it('reports crashes with the last line of stderr', () => {
    const err = crashError(call, 2, 'goroutine 1\npanic: nil map\n');
    expect(err).toBeInstanceOf(InternalError);
    expect(err.message).toBe(
      'CNI plugin bridge (ADD) for replica web-0 exited with status 2: panic: nil map',
    );
    expect(crashError({ plugin: 'bridge', command: 'VERSION' }, null, '').message).toBe(
      'CNI plugin bridge (VERSION) was killed',
    );
  });

  it('tells how to install a missing plugin', () => {
    const err = missingPluginError('bridge', ['/usr/lib/cni', '/opt/cni/bin']);
    expect(err).toBeInstanceOf(FailedPreconditionError);
    expect(err.message).toBe(
      'CNI plugin bridge not found in /usr/lib/cni, /opt/cni/bin; install the plugins with: apt-get install containernetworking-plugins',
    );
  });
});
