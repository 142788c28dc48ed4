import type { NetworkInterfaceInfo } from 'node:os';
import { discover, localAddresses, MdnsAdvertiser, PROTOCOL_VERSION } from '../../../src/discovery';
import { silentLogger } from '../../../src/log';
import { FakeMdnsNetwork, ManualClock, settle } from '../../support/fakes/mdns';

const log = silentLogger();

async function advertise(network: FakeMdnsNetwork, n: number, name: string) {
  const advertiser = new MdnsAdvertiser(network.transport(`10.195.0.${n}`), {
    advert: { nodeId: `${n}`.repeat(16), clusterId: undefined, name, version: PROTOCOL_VERSION },
    port: 7447,
    addresses: () => [`10.195.0.${n}`],
    log,
  });
  await advertiser.start();
  return advertiser;
}

describe('discover', () => {
  it('lists, sorted by name, the nodes that answered within the timeout', async () => {
    const network = new FakeMdnsNetwork();
    const clock = new ManualClock();
    await advertise(network, 1, 'zeta');
    await advertise(network, 2, 'alpha');
    const transport = network.transport('10.195.0.100');
    const result = discover({ timeoutMs: 1000, log, clock, transport, selfNodeId: '1'.repeat(16) });
    await clock.advance(1000);
    expect((await result).map((p) => [p.name, p.addresses])).toEqual([['alpha', ['10.195.0.2']]]);
    expect(transport.closed).toBe(false); // the caller's transport stays open
    // Asked at once and again a third of the way in, in case the first query was lost.
    const queries = network.sent.filter((p) => p.kind === 'query' && p.from === '10.195.0.100');
    expect(queries).toHaveLength(2);
  });

  it('drops nodes that said goodbye before the end, and returns early on abort', async () => {
    const network = new FakeMdnsNetwork();
    const clock = new ManualClock();
    const leaving = await advertise(network, 3, 'leaving');
    const abort = new AbortController();
    const result = discover({
      timeoutMs: 60_000,
      log,
      clock,
      transport: network.transport('10.195.0.100'),
      signal: abort.signal,
    });
    await settle();
    await leaving.close();
    await settle();
    abort.abort();
    expect(await result).toEqual([]);
  });
});

describe('localAddresses', () => {
  it('skips loopback and IPv6 link-local addresses', () => {
    const info = (
      address: string,
      family: 'IPv4' | 'IPv6',
      internal = false,
    ): NetworkInterfaceInfo =>
      family === 'IPv4'
        ? { address, family, internal, netmask: '', mac: '', cidr: null }
        : { address, family, internal, netmask: '', mac: '', cidr: null, scopeid: 0 };
    expect(
      localAddresses({
        lo: [info('127.0.0.1', 'IPv4', true), info('::1', 'IPv6', true)],
        eth0: [info('10.195.0.2', 'IPv4'), info('fe80::1', 'IPv6'), info('fd00::2', 'IPv6')],
      }),
    ).toEqual(['10.195.0.2', 'fd00::2']);
  });
});
