import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import { silentLogger } from '../../../src/log';
import { PortProxy, type Backend, type PortProxyOptions } from '../../../src/proxy';
import {
  LOCALHOST,
  blackhole,
  echoServer,
  readAll,
  refusedPort,
  roundTrip,
  sleep,
  tcpServer,
  type TestServer,
} from './net-helpers';

describe('PortProxy (tcp)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup.length = 0;
  });

  async function proxyTo(backends: Backend[], options: Partial<PortProxyOptions> = {}) {
    const proxy = new PortProxy({
      protocol: 'tcp',
      host: LOCALHOST,
      port: 0,
      log: silentLogger(),
      ...options,
    });
    await proxy.start();
    proxy.setBackends(backends);
    cleanup.push(() => proxy.close());
    return proxy;
  }

  async function echoes(...ids: string[]): Promise<TestServer[]> {
    const servers = await Promise.all(ids.map(echoServer));
    cleanup.push(async () => {
      await Promise.all(servers.map((s) => s.close()));
    });
    return servers;
  }

  const backendOf = (s: TestServer): Backend => ({ id: s.id, host: LOCALHOST, port: s.port });

  it('spreads connections round-robin over its backends', async () => {
    const servers = await echoes('a', 'b', 'c');
    const proxy = await proxyTo(servers.map(backendOf));
    const replies: string[] = [];
    for (let i = 0; i < 6; i++) replies.push(await roundTrip(proxy.port, `${i}`));
    expect(replies).toEqual(['a:0', 'b:1', 'c:2', 'a:3', 'b:4', 'c:5']);
    const stats = proxy.stats();
    expect(stats.connections).toEqual({ active: 0, total: 6, rejected: 0 });
    expect(stats.backends.map((b) => [b.id, b.total, b.state])).toEqual([
      ['a', 2, 'ready'],
      ['b', 2, 'ready'],
      ['c', 2, 'ready'],
    ]);
    expect(stats.bytes).toEqual({ fromClients: 6, toClients: 18 });
  });

  it('skips a refusing backend without the client noticing, early bytes included', async () => {
    const [a] = await echoes('a');
    const dead = { id: 'dead', host: LOCALHOST, port: await refusedPort() };
    const proxy = await proxyTo([dead, backendOf(a!)]);
    expect(await roundTrip(proxy.port, 'early bytes')).toBe('a:early bytes');
    const stats = proxy.stats().backends.find((b) => b.id === 'dead');
    expect(stats).toMatchObject({ state: 'cooling', connectFailures: 1, total: 0 });
    // While cooling, the dead backend is tried last: the next connections go to `a` first.
    expect(await roundTrip(proxy.port, 'x')).toBe('a:x');
    expect(await roundTrip(proxy.port, 'y')).toBe('a:y');
    expect(proxy.stats().backends.find((b) => b.id === 'dead')?.connectFailures).toBe(1);
  });

  it('gives up on a backend that does not answer after connectTimeoutMs', async () => {
    const hole = await blackhole();
    cleanup.push(() => hole.close());
    const [a] = await echoes('a');
    const proxy = await proxyTo([{ id: 'hole', host: LOCALHOST, port: hole.port }, backendOf(a!)], {
      connectTimeoutMs: 300,
    });
    const started = Date.now();
    expect(await roundTrip(proxy.port, 'waited')).toBe('a:waited');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(2000);
    expect(proxy.stats().backends[0]).toMatchObject({ id: 'hole', state: 'cooling' });
  });

  it("uses a backend's own connect timeout over the proxy's", async () => {
    const hole = await blackhole();
    cleanup.push(() => hole.close());
    const [a] = await echoes('a');
    const silent = { id: 'hole', host: LOCALHOST, port: hole.port, connectTimeoutMs: 200 };
    const proxy = await proxyTo([silent, backendOf(a!)], { connectTimeoutMs: 10_000 });
    const started = Date.now();
    expect(await roundTrip(proxy.port, 'soon')).toBe('a:soon');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(proxy.stats().backends[0]).toMatchObject({ id: 'hole', state: 'cooling' });
  });

  it('abandons connects pending to a backend taken out of rotation, for the next one', async () => {
    const hole = await blackhole();
    cleanup.push(() => hole.close());
    const [a] = await echoes('a');
    const silent = { id: 'hole', host: LOCALHOST, port: hole.port };
    const proxy = await proxyTo([silent, backendOf(a!)], { connectTimeoutMs: 10_000 });
    const started = Date.now();
    const reply = roundTrip(proxy.port, 'moved on');
    await sleep(200);
    proxy.setBackends([backendOf(a!)]);
    expect(await reply).toBe('a:moved on');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(proxy.stats().backends.map((b) => b.id)).toEqual(['a']);
  });

  it('closes the client promptly when no backend can take it', async () => {
    const proxy = await proxyTo([]);
    const started = Date.now();
    const socket = net.connect(proxy.port, LOCALHOST);
    socket.on('error', () => undefined);
    await once(socket, 'close');
    expect(Date.now() - started).toBeLessThan(500);
    expect(proxy.stats().connections.rejected).toBe(1);

    proxy.setBackends([{ id: 'dead', host: LOCALHOST, port: await refusedPort() }]);
    const again = net.connect(proxy.port, LOCALHOST);
    again.on('error', () => undefined);
    await once(again, 'close');
    expect(proxy.stats().connections.rejected).toBe(2);
  });

  it('gives unhealthy backends no new connections', async () => {
    const [a, b] = await echoes('a', 'b');
    const proxy = await proxyTo([{ ...backendOf(a!), healthy: false }, backendOf(b!)]);
    expect([await roundTrip(proxy.port), await roundTrip(proxy.port)]).toEqual([
      'b:hello',
      'b:hello',
    ]);
    expect(proxy.stats().backends[0]).toMatchObject({ id: 'a', state: 'unhealthy', total: 0 });
  });

  it('passes half-closes through in both directions', async () => {
    // Client first: covered by roundTrip (the backend answers after the client's end).
    const [a] = await echoes('a');
    const proxy = await proxyTo([backendOf(a!)]);
    expect(await roundTrip(proxy.port, 'ping')).toBe('a:ping');

    // Backend first: it says hello and ends; the client may still talk afterwards.
    let received = '';
    const talker = await tcpServer('t', (s) => {
      s.end('bye');
      s.on('data', (c: Buffer) => (received += c.toString()));
    });
    cleanup.push(() => talker.close());
    proxy.setBackends([backendOf(talker)]);
    const client = net.connect({ port: proxy.port, host: LOCALHOST, allowHalfOpen: true });
    const reply = await readAll(client);
    client.end('after your end');
    await once(client, 'close');
    await sleep(50);
    expect(reply).toBe('bye');
    expect(received).toBe('after your end');
  });

  it('destroys the client when the backend resets', async () => {
    const resetter = await tcpServer('r', (s) => {
      s.once('data', () => s.resetAndDestroy());
    });
    cleanup.push(() => resetter.close());
    const proxy = await proxyTo([backendOf(resetter)]);
    const client = net.connect(proxy.port, LOCALHOST);
    client.on('error', () => undefined);
    client.write('x');
    await once(client, 'close');
    await sleep(20);
    expect(proxy.stats().connections.active).toBe(0);
  });

  it('keeps memory bounded when the backend reads slowly (backpressure)', async () => {
    let paused = true;
    const hash = createHash('sha256');
    let receivedBytes = 0;
    let sink!: net.Socket;
    const slow = await tcpServer('slow', (s) => {
      sink = s;
      s.pause();
      s.on('data', (c: Buffer) => {
        hash.update(c);
        receivedBytes += c.length;
      });
    });
    cleanup.push(() => slow.close());
    const proxy = await proxyTo([backendOf(slow)]);

    const payload = randomBytes(64 * 1024 * 1024);
    const client = net.connect(proxy.port, LOCALHOST);
    client.write(payload);
    client.end();
    let maxBuffered = 0;
    for (let i = 0; i < 10; i++) {
      await sleep(30);
      maxBuffered = Math.max(maxBuffered, proxy.stats().buffered);
    }
    expect(paused).toBe(true);
    expect(receivedBytes).toBe(0);
    // The proxy holds at most a few socket buffers; the rest waits in the client and the kernel.
    expect(maxBuffered).toBeLessThan(1024 * 1024);
    expect(client.writableLength).toBeGreaterThan(32 * 1024 * 1024);

    paused = false;
    sink.resume();
    await once(sink, 'end');
    expect(receivedBytes).toBe(payload.length);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
    client.destroy();
  });

  it('drains a backend: open connections finish, new ones go elsewhere', async () => {
    const [a, b] = await echoes('a', 'b');
    const proxy = await proxyTo([backendOf(a!), backendOf(b!)]);
    const open = net.connect({ port: proxy.port, host: LOCALHOST, allowHalfOpen: true });
    open.write('still ');
    await sleep(50);
    expect(proxy.stats().backends[0]).toMatchObject({ id: 'a', active: 1 });

    let drained = false;
    const drain = proxy.drain('a', 5000).then(() => (drained = true));
    expect([await roundTrip(proxy.port), await roundTrip(proxy.port)]).toEqual([
      'b:hello',
      'b:hello',
    ]);
    expect(proxy.stats().backends.find((s) => s.id === 'a')?.state).toBe('draining');
    expect(drained).toBe(false);

    open.end('here');
    expect(await readAll(open)).toBe('a:still here');
    await drain;
    expect(proxy.stats().backends.map((s) => s.id)).toEqual(['b']);
  });

  it('cuts connections that outlast the drain timeout, also for removed backends', async () => {
    const [a, b] = await echoes('a', 'b');
    const proxy = await proxyTo([backendOf(a!), backendOf(b!)], { drainTimeoutMs: 100 });
    const open = net.connect(proxy.port, LOCALHOST);
    open.on('error', () => undefined);
    open.write('never finished');
    await sleep(50);
    const started = Date.now();
    proxy.setBackends([backendOf(b!)]);
    await once(open, 'close');
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    await sleep(20);
    expect(proxy.stats().backends.map((s) => s.id)).toEqual(['b']);
    expect(await roundTrip(proxy.port)).toBe('b:hello');
  });

  it('reports a port in use as a conflict', async () => {
    const taken = await tcpServer('taken', () => undefined);
    cleanup.push(() => taken.close());
    const proxy = new PortProxy({
      protocol: 'tcp',
      host: LOCALHOST,
      port: taken.port,
      log: silentLogger(),
    });
    await expect(proxy.start()).rejects.toMatchObject({
      kind: 'conflict',
      message: `port ${taken.port}/tcp is in use on this host`,
    });
  });
});
