import dgram from 'node:dgram';
import { once } from 'node:events';
import { silentLogger } from '../../../src/log';
import { PortProxy, type PortProxyOptions } from '../../../src/proxy';
import { LOCALHOST, sleep, udpClient, udpEcho } from './net-helpers';

describe('PortProxy (udp)', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup.length = 0;
  });

  async function setup(ids: string[], options: Partial<PortProxyOptions> = {}) {
    const backends = await Promise.all(ids.map(udpEcho));
    cleanup.push(() => {
      for (const b of backends) b.close();
    });
    const proxy = new PortProxy({
      protocol: 'udp',
      host: LOCALHOST,
      port: 0,
      log: silentLogger(),
      ...options,
    });
    await proxy.start();
    proxy.setBackends(backends.map((b) => ({ id: b.id, host: LOCALHOST, port: b.port })));
    cleanup.push(() => proxy.close());
    return proxy;
  }

  async function client(port: number) {
    const c = await udpClient(port);
    cleanup.push(() => {
      c.close();
    });
    return c;
  }

  it('keeps each client flow on one backend, round-robin across flows, with replies', async () => {
    const proxy = await setup(['a', 'b', 'c']);
    const clients = await Promise.all([1, 2, 3, 4].map(() => client(proxy.port)));
    const first: string[] = [];
    for (const c of clients) first.push(await c.ask('1'));
    expect(first).toEqual(['a:1', 'b:1', 'c:1', 'a:1']);
    for (const [i, c] of clients.entries()) {
      expect(await c.ask('2')).toBe(`${first[i]![0]!}:2`);
    }
    const stats = proxy.stats();
    expect(stats.connections).toEqual({ active: 4, total: 4, rejected: 0 });
    expect(stats.bytes).toEqual({ fromClients: 8, toClients: 24 });
  });

  it('closes idle flows; the next datagram opens a new flow', async () => {
    const proxy = await setup(['a', 'b'], { udpIdleMs: 100 });
    const c = await client(proxy.port);
    expect(await c.ask('x')).toBe('a:x');
    await sleep(60);
    expect(await c.ask('y')).toBe('a:y');
    expect(proxy.stats().connections.active).toBe(1);
    await sleep(250);
    expect(proxy.stats().connections.active).toBe(0);
    expect(proxy.stats().backends.map((b) => b.active)).toEqual([0, 0]);
    expect(await c.ask('z')).toBe('b:z');
  });

  it('moves a flow off a backend that answers with port unreachable', async () => {
    const proxy = await setup(['a']);
    const gone = dgram.createSocket('udp4');
    gone.bind(0, LOCALHOST);
    await once(gone, 'listening');
    const deadPort = gone.address().port;
    gone.close();
    const live = proxy.stats().backends[0]!;
    proxy.setBackends([
      { id: 'dead', host: LOCALHOST, port: deadPort },
      { id: 'a', host: LOCALHOST, port: live.port },
    ]);
    const c = await client(proxy.port);
    // The first datagram is lost to the dead backend (UDP); the ICMP error moves the flow.
    await expect(c.ask('lost', 200)).rejects.toThrow();
    expect(await c.ask('again')).toBe('a:again');
    expect(proxy.stats().backends[0]).toMatchObject({ id: 'dead', state: 'cooling' });
  });

  it('drops datagrams when there is no backend', async () => {
    const proxy = await setup([]);
    const c = await client(proxy.port);
    await expect(c.ask('anyone?', 100)).rejects.toThrow();
    expect(proxy.stats().connections.rejected).toBe(1);
  });

  it('drains: the open flow keeps working, new flows go elsewhere', async () => {
    const proxy = await setup(['a', 'b']);
    const first = await client(proxy.port);
    expect(await first.ask('1')).toBe('a:1');
    const drain = proxy.drain('a', 150);
    const second = await client(proxy.port);
    expect(await second.ask('1')).toBe('b:1');
    expect(await first.ask('2')).toBe('a:2');
    await drain;
    expect(proxy.stats().backends.map((b) => b.id)).toEqual(['b']);
    expect(await first.ask('3')).toBe('b:3');
  });

  it('reports a port in use as a conflict', async () => {
    const taken = dgram.createSocket('udp4');
    taken.bind(0, LOCALHOST);
    await once(taken, 'listening');
    cleanup.push(() => {
      taken.close();
    });
    const port = taken.address().port;
    const proxy = new PortProxy({ protocol: 'udp', host: LOCALHOST, port, log: silentLogger() });
    await expect(proxy.start()).rejects.toMatchObject({
      kind: 'conflict',
      message: `port ${port}/udp is in use on this host`,
    });
  });
});
