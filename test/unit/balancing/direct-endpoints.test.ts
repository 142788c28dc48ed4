import { DirectEndpoints, type Endpoint } from '../../../src/balancing';
import { silentLogger } from '../../../src/log';
import type { Backend, ProxyProtocol } from '../../../src/proxy';

/** An endpoint that records what it forwards to instead of listening. */
class FakeEndpoint implements Endpoint {
  backends: readonly Backend[] = [];
  closedWith: number | undefined;
  constructor(
    readonly protocol: ProxyProtocol,
    readonly port: number,
  ) {}
  setBackends(backends: readonly Backend[]): void {
    this.backends = backends;
  }
  close(drainTimeoutMs = 0): Promise<void> {
    this.closedWith = drainTimeoutMs;
    return Promise.resolve();
  }
}

function setup(fail = false): { direct: DirectEndpoints; opened: FakeEndpoint[] } {
  const opened: FakeEndpoint[] = [];
  let next = 40000;
  const direct = new DirectEndpoints({
    host: '10.0.0.5',
    log: silentLogger(),
    drainTimeoutMs: 7,
    open: (protocol) => {
      if (fail) return Promise.reject(new Error('address in use'));
      const e = new FakeEndpoint(protocol, next++);
      opened.push(e);
      return Promise.resolve(e);
    },
  });
  return { direct, opened };
}

const r1 = { id: 'r1', host: '10.213.0.2', port: 8080 };
const r2 = { id: 'r2', host: '10.213.0.3', port: 8080, healthy: false };

describe('DirectEndpoints', () => {
  it('opens one endpoint per replica and port, each forwarding to that replica only', async () => {
    const { direct, opened } = setup();
    await direct.sync([
      { protocol: 'tcp', port: 80, backends: [r1, r2] },
      { protocol: 'udp', port: 53, backends: [{ id: 'r1', host: r1.host, port: 5353 }] },
    ]);
    expect(opened.map((e) => [e.protocol, e.port, e.backends])).toEqual([
      ['tcp', 40000, [r1]],
      ['tcp', 40001, [r2]],
      ['udp', 40002, [{ id: 'r1', host: r1.host, port: 5353 }]],
    ]);
    const ports = [
      { hostPort: 80, protocol: 'tcp' as const },
      { hostPort: 53, protocol: 'udp' as const },
    ];
    expect(direct.endpointsOf({ id: 'r1', ports })).toEqual([
      '10.0.0.5:40000',
      '10.0.0.5:40002/udp',
    ]);
    expect(direct.endpointsOf({ id: 'r3', ports })).toEqual(['', '']);
  });

  it('keeps endpoints across syncs, passes health on, drains those of gone replicas', async () => {
    const { direct, opened } = setup();
    await direct.sync([{ protocol: 'tcp', port: 80, backends: [r1, r2] }]);
    await direct.sync([{ protocol: 'tcp', port: 80, backends: [{ ...r2, healthy: true }] }]);
    await Promise.resolve();
    expect(opened).toHaveLength(2);
    expect(opened[0]!.closedWith).toBe(7);
    expect(opened[1]!.closedWith).toBeUndefined();
    expect(opened[1]!.backends).toEqual([{ ...r2, healthy: true }]);
    const ports = [{ hostPort: 80, protocol: 'tcp' as const }];
    expect(direct.endpointsOf({ id: 'r1', ports })).toEqual(['']);
    await direct.close();
    expect(opened[1]!.closedWith).toBe(0);
    await direct.sync([{ protocol: 'tcp', port: 80, backends: [r1] }]);
    expect(opened).toHaveLength(2);
  });

  it('lists no endpoint it could not open, and tries again at the next sync', async () => {
    const { direct } = setup(true);
    await direct.sync([{ protocol: 'tcp', port: 80, backends: [r1] }]);
    expect(direct.endpointsOf({ id: 'r1', ports: [{ hostPort: 80, protocol: 'tcp' }] })).toEqual([
      '',
    ]);
  });
});
