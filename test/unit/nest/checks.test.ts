import type { CheckResult } from '../../../src/nest';
import { runChecks } from '../../../src/nest';
import { fakeProbes, healthyMachine, type FakeMachine } from '../../support/fakes/system-probes';

const TARGET = {
  containerdSocket: '/run/containerd/containerd.sock',
  agentSocket: '/run/budgie/budgie.sock',
  stateDir: '/var/lib/budgie',
  peerPort: 7447,
};

async function check(change: (m: FakeMachine) => void = () => undefined): Promise<CheckResult[]> {
  const machine = healthyMachine();
  change(machine);
  return runChecks(fakeProbes(machine), TARGET);
}

async function one(name: string, change: (m: FakeMachine) => void): Promise<CheckResult> {
  const found = (await check(change)).find((r) => r.check === name);
  if (found === undefined) throw new Error(`no check ${name}`);
  return found;
}

describe('nest system checks', () => {
  it('reports every check ok on a healthy machine, in a fixed order', async () => {
    const results = await check();
    expect(results.map((r) => r.check)).toEqual([
      'os',
      'node',
      'containerd',
      'runc',
      'cni-plugins',
      'cgroups',
      'firewall',
      'overlayfs',
      'multicast',
      'agent-socket',
      'peer-port',
      'disk',
    ]);
    expect(results.filter((r) => r.status !== 'ok')).toEqual([]);
    expect(results.every((r) => r.fix === null)).toBe(true);
    expect(results[0]?.detail).toBe('Debian GNU/Linux 12 (bookworm), x64');
  });

  it('asks containerd its version with a short timeout and names the socket', async () => {
    const machine = healthyMachine();
    const probes = fakeProbes(machine);
    const results = await runChecks(probes, TARGET);
    expect(results.find((r) => r.check === 'containerd')?.detail).toBe(
      '1.6.20~ds1 at /run/containerd/containerd.sock',
    );
    expect(probes.timeouts).toEqual([2000]);
  });

  it('says containerd is missing with the apt command when it is not installed', async () => {
    const r = await one('containerd', (m) => {
      m.containerd = { error: 'connect ENOENT' };
      delete m.executables['containerd'];
    });
    expect(r).toEqual({
      check: 'containerd',
      status: 'missing',
      detail: 'no answer at /run/containerd/containerd.sock: connect ENOENT',
      fix: 'apt-get install -y containerd',
    });
  });

  it('says to start containerd when it is installed but does not answer', async () => {
    const r = await one('containerd', (m) => (m.containerd = { error: 'refused' }));
    expect(r.status).toBe('missing');
    expect(r.fix).toMatch(/^systemctl start containerd/);
  });

  it.each([
    ['runc', (m: FakeMachine) => delete m.executables['runc'], 'apt-get install -y runc'],
    [
      'cni-plugins',
      (m: FakeMachine) => (m.paths = m.paths.filter((p) => !p.startsWith('/usr/lib/cni'))),
      'apt-get install -y containernetworking-plugins',
    ],
    [
      'firewall',
      (m: FakeMachine) => {
        delete m.executables['iptables'];
        delete m.executables['nft'];
      },
      'apt-get install -y iptables',
    ],
    [
      'node',
      (m: FakeMachine) => (m.nodeVersion = '18.19.0'),
      'curl -fsSL https://deb.nodesource.com/setup_20.x | bash - && apt-get install -y nodejs',
    ],
  ])('says %s is missing with its fix', async (name, change, fix) => {
    const r = await one(name, change);
    expect(r).toMatchObject({ status: 'missing', fix });
  });

  it('names the CNI plugins that are absent', async () => {
    const r = await one('cni-plugins', (m) => {
      m.paths = m.paths.filter((p) => p !== '/usr/lib/cni/portmap');
    });
    expect(r.detail).toBe('portmap missing from /usr/lib/cni');
  });

  it('finds the CNI plugins in /opt/cni/bin too', async () => {
    const r = await one('cni-plugins', (m) => {
      m.paths = m.paths.map((p) => p.replace('/usr/lib/cni', '/opt/cni/bin'));
    });
    expect(r).toMatchObject({ status: 'ok', detail: expect.stringContaining('/opt/cni/bin') });
  });

  it('accepts cgroup v1 and fails without any cgroup mount', async () => {
    const v1 = await one('cgroups', (m) => {
      m.paths = m.paths.filter((p) => !p.startsWith('/sys/fs/cgroup'));
      m.files['/proc/mounts'] = 'cgroup /sys/fs/cgroup/memory cgroup rw 0 0\n';
    });
    expect(v1).toMatchObject({ status: 'ok', detail: 'v1 at /sys/fs/cgroup' });
    const none = await one('cgroups', (m) => {
      m.paths = m.paths.filter((p) => !p.startsWith('/sys/fs/cgroup'));
    });
    expect(none.status).toBe('missing');
  });

  it('warns when only nft is there, since the CNI plugins call iptables', async () => {
    const r = await one('firewall', (m) => delete m.executables['iptables']);
    expect(r).toMatchObject({ status: 'warning', fix: 'apt-get install -y iptables' });
  });

  it('finds overlayfs as a loadable module, and only warns without it', async () => {
    const loadable = await one('overlayfs', (m) => {
      m.files['/proc/filesystems'] = 'nodev\tcgroup2\n';
      m.paths.push('/lib/modules/6.1.0-test/kernel/fs/overlayfs/overlay.ko');
    });
    expect(loadable.status).toBe('ok');
    const absent = await one('overlayfs', (m) => (m.files['/proc/filesystems'] = ''));
    expect(absent).toMatchObject({ status: 'warning', fix: expect.stringContaining('modprobe') });
  });

  it('warns without a multicast-capable interface that is up', async () => {
    const r = await one('multicast', (m) => {
      m.interfaces = [
        { name: 'lo', up: true, loopback: true, multicast: false },
        { name: 'eth0', up: false, loopback: false, multicast: true },
      ];
    });
    expect(r).toMatchObject({ status: 'warning', fix: expect.stringContaining('--peer') });
  });

  it('warns, never fails, when no agent answers', async () => {
    const r = await one('agent-socket', (m) => (m.agentSocket = { state: 'absent' }));
    expect(r).toMatchObject({
      status: 'warning',
      detail: 'no agent at /run/budgie/budgie.sock (no socket)',
    });
  });

  it('accepts the peer port held by budgie and warns when another program holds it', async () => {
    const budgie = await one('peer-port', (m) => {
      m.port = {
        state: 'in-use',
        owner: 'pid 7: node /usr/local/lib/budgie/dist/main.js agent',
        byBudgie: true,
      };
    });
    expect(budgie).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('in use by budgie'),
    });
    const other = await one('peer-port', (m) => {
      m.port = { state: 'in-use', owner: 'pid 9: nginx', byBudgie: false };
    });
    expect(other).toMatchObject({
      status: 'warning',
      detail: '7447/tcp in use by pid 9: nginx: the peer API cannot listen',
    });
  });

  it('warns on low disk and fails on almost none', async () => {
    const low = await one('disk', (m) => (m.freeBytes = 1024 ** 3));
    expect(low).toMatchObject({ status: 'warning', detail: '1.0 GiB free in /var/lib/budgie' });
    const none = await one('disk', (m) => (m.freeBytes = 10 * 1024 ** 2));
    expect(none.status).toBe('missing');
  });

  it('says the agent needs Linux on another platform', async () => {
    const r = await one('os', (m) => {
      m.platform = 'darwin';
      m.osName = undefined;
    });
    expect(r).toMatchObject({ status: 'missing', detail: expect.stringContaining('needs Linux') });
  });
});
