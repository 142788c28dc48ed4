import { BackendPool } from '../../../src/proxy/backend-pool';
import { listenError } from '../../../src/proxy/listen-error';
import type { Backend } from '../../../src/proxy';
import type { Lease } from '../../../src/proxy/types';

const b = (id: string, port = 1000): Backend => ({ id, host: '127.0.0.1', port });

function pool() {
  let now = 0;
  const p = new BackendPool({ failCooldownMs: 1000, now: () => now });
  const order = () => p.candidates().map((e) => e.backend.id);
  return { p, order, advance: (ms: number) => (now += ms) };
}

function lease(): Lease & { destroyed: boolean } {
  return {
    destroyed: false,
    destroy() {
      this.destroyed = true;
    },
  };
}

describe('BackendPool', () => {
  it('rotates the starting backend per connection', () => {
    const { p, order } = pool();
    p.set([b('a'), b('b'), b('c')], 0);
    expect([order(), order(), order(), order()]).toEqual([
      ['a', 'b', 'c'],
      ['b', 'c', 'a'],
      ['c', 'a', 'b'],
      ['a', 'b', 'c'],
    ]);
  });

  it('signals when a backend leaves rotation, removed or drained, and not before', async () => {
    const { p } = pool();
    p.set([b('a'), b('b'), b('c')], 0);
    const [a, bb, c] = p.candidates();
    p.set([b('a'), b('b'), b('c', 2000)], 0);
    expect([a, bb, c].map((e) => e!.leftRotation.aborted)).toEqual([false, false, true]);
    await p.drain('b', 0);
    p.set([b('a')], 0);
    expect([a, bb].map((e) => e!.leftRotation.aborted)).toEqual([false, true]);
  });

  it('tries a backend that just failed last, until its cool-down ends', () => {
    const { p, order, advance } = pool();
    p.set([b('a'), b('b'), b('c')], 0);
    const [a] = p.candidates();
    expect(p.failed(a!)).toBe(true);
    expect(p.failed(a!)).toBe(false);
    expect(order()).toEqual(['b', 'c', 'a']);
    expect(order()).toEqual(['c', 'b', 'a']);
    advance(1001);
    expect(order()).toEqual(['a', 'b', 'c']);
  });

  it('skips unhealthy backends and keeps state across updates of the same backend', () => {
    const { p, order } = pool();
    p.set([b('a'), b('b')], 0);
    const [a] = p.candidates();
    p.acquire(a!, lease());
    p.set([{ ...b('a'), healthy: false }, b('b')], 0);
    expect(order()).toEqual(['b']);
    expect(p.stats()[0]).toMatchObject({ id: 'a', state: 'unhealthy', active: 1, total: 1 });
  });

  it('drains a re-addressed backend and starts afresh at the new address', async () => {
    const { p } = pool();
    p.set([b('a', 1000)], 0);
    const held = lease();
    p.acquire(p.candidates()[0]!, held);
    p.set([b('a', 2000)], 50);
    expect(p.stats().map((s) => [s.port, s.state])).toEqual([
      [2000, 'ready'],
      [1000, 'draining'],
    ]);
    await p.drained();
    expect(held.destroyed).toBe(true);
    expect(p.stats().map((s) => s.port)).toEqual([2000]);
  });

  it('finishes a drain when the last lease is released; a second drain only shortens it', async () => {
    const { p } = pool();
    p.set([b('a')], 0);
    const entry = p.candidates()[0]!;
    const held = lease();
    p.acquire(entry, held);
    let done = false;
    const drain = p.drain('a', 60_000).then(() => (done = true));
    expect(p.candidates()).toEqual([]);
    await Promise.resolve();
    expect(done).toBe(false);
    entry.release(held);
    await drain;
    expect(held.destroyed).toBe(false);
    await expect(p.drain('a', 10)).resolves.toBeUndefined();
  });

  it('brings the cut of a backend already draining after `set` closer', async () => {
    const { p } = pool();
    p.set([b('a'), b('b')], 0);
    const held = lease();
    p.acquire(p.candidates()[0]!, held);
    p.set([b('b')], 60_000);
    expect(p.stats().map((s) => [s.id, s.state])).toEqual([
      ['b', 'ready'],
      ['a', 'draining'],
    ]);
    await p.drain('a', 0);
    expect(held.destroyed).toBe(true);
    expect(p.stats().map((s) => s.id)).toEqual(['b']);
  });

  it('names the bad field of an invalid backend list', () => {
    const { p } = pool();
    expect(() => {
      p.set([b('a'), b('a')], 0);
    }).toThrow('backends[1].id: duplicate id "a"');
    expect(() => {
      p.set([b('a', 70000)], 0);
    }).toThrow('backends[0].port: expected 1-65535');
  });
});

describe('listenError', () => {
  const errno = (code: string) => Object.assign(new Error(code), { code });
  it('translates bind failures into errors a user can act on', () => {
    expect(listenError(errno('EACCES'), 'tcp', '0.0.0.0', 80)).toMatchObject({
      kind: 'permission-denied',
      message: 'port 80/tcp needs privileges to bind (root or CAP_NET_BIND_SERVICE below 1024)',
    });
    expect(listenError(errno('EADDRINUSE'), 'udp', '0.0.0.0', 53).message).toBe(
      'port 53/udp is in use on this host',
    );
    expect(listenError(errno('EADDRNOTAVAIL'), 'tcp', '10.9.9.9', 80).kind).toBe('invalid-input');
    expect(listenError(new Error('odd'), 'tcp', '0.0.0.0', 80).kind).toBe('internal');
  });
});
