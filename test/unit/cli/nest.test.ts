import type { CliDeps } from '../../../src/cli/context';
import { targetsFromFlags } from '../../../src/cli/commands/nest-build';
import { cli } from '../../support/cli';
import { fakeProbes, healthyMachine, type FakeMachine } from '../../support/fakes/system-probes';

function withMachine(change: (m: FakeMachine) => void = () => undefined): Partial<CliDeps> {
  const machine = healthyMachine();
  change(machine);
  return { systemProbes: () => Promise.resolve(fakeProbes(machine)) };
}

/** No config file: the tests must not read the machine's /etc/budgie/config.yaml. */
const NO_CONFIG = ['--config', '/dev/null'];

describe('budgie nest', () => {
  it('without a terminal: one line naming the subcommands to use, exit 2', async () => {
    const r = await cli(['nest']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'budgie: nest: the menu needs a terminal; use budgie nest quickstart, build, check or learn instead\n',
    );
  });

  it.each([
    [
      ['--platform', 'solaris'],
      '--platform: expected one of linux, darwin, windows, got "solaris"',
    ],
    [['--arch', 'x64'], '--arch: expected one of amd64, arm64, got "x64"'],
    [['--all', '--platform', 'linux'], '--all: expected alone, without --platform or --arch'],
  ])(
    'nest build %j: one line naming the flag and what it takes, exit 2',
    async (flags, message) => {
      const r = await cli(['nest', 'build', ...flags]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`budgie: ${message}\n`);
    },
  );

  it('prints a table with fixes under the checks and a summary line', async () => {
    const r = await cli(
      ['nest', 'check', ...NO_CONFIG],
      withMachine((m) => {
        delete m.executables['runc'];
        m.agentSocket = { state: 'absent' };
      }),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('budgie: nest check: missing: runc\n');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^CHECK +STATUS +DETAIL$/);
    expect(lines).toContainEqual(expect.stringMatching(/^runc +missing +runc not found on PATH$/));
    const runc = lines.findIndex((l) => l.startsWith('runc'));
    expect(lines[runc + 1]).toMatch(/^ +fix: apt-get install -y runc$/);
    expect(lines.at(-2)).toBe(
      '10 ok, 1 warning, 1 missing: Budgie cannot run here until what is missing is fixed',
    );
  });

  it('exits 0 when only warnings are found', async () => {
    const r = await cli(
      ['nest', 'check', ...NO_CONFIG],
      withMachine((m) => (m.agentSocket = { state: 'absent' })),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/11 ok, 1 warning, 0 missing: everything Budgie needs is here\n$/);
  });

  it('prints a stable JSON array with --json', async () => {
    const r = await cli(['nest', 'check', '--json', ...NO_CONFIG], withMachine());
    expect(r.code).toBe(0);
    const parsed: unknown = JSON.parse(r.stdout);
    expect(Array.isArray(parsed)).toBe(true);
    const rows = parsed as Record<string, unknown>[];
    expect(rows).toHaveLength(12);
    for (const row of rows) expect(Object.keys(row)).toEqual(['check', 'status', 'detail', 'fix']);
    expect(rows[2]).toEqual({
      check: 'containerd',
      status: 'ok',
      detail: '1.6.20~ds1 at /run/containerd/containerd.sock',
      fix: null,
    });
  });

  it('honours --containerd, --socket and --state-dir', async () => {
    const r = await cli(
      [
        'nest',
        'check',
        '--json',
        ...NO_CONFIG,
        '--containerd',
        '/tmp/c.sock',
        '--socket',
        '/tmp/b.sock',
        '--state-dir',
        '/srv/budgie',
      ],
      withMachine((m) => (m.agentSocket = { state: 'absent' })),
    );
    const rows = JSON.parse(r.stdout) as { check: string; detail: string }[];
    const detail = (check: string): string | undefined =>
      rows.find((row) => row.check === check)?.detail;
    expect(detail('containerd')).toBe('1.6.20~ds1 at /tmp/c.sock');
    expect(detail('agent-socket')).toBe('no agent at /tmp/b.sock (no socket)');
    expect(detail('disk')).toBe('50.0 GiB free in /srv/budgie');
  });

  it('names the config file it cannot read', async () => {
    const r = await cli(['nest', 'check', '--config', '/nonexistent/budgie.yaml'], withMachine());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^budgie: --config: cannot read \/nonexistent\/budgie.yaml: /);
  });

  it('lists the lesson topics, and prints one', async () => {
    const topics = await cli(['nest', 'learn']);
    expect(topics.code).toBe(0);
    for (const topic of ['first-container', 'lan', 'replication', 'managing', 'bun-file']) {
      expect(topics.stdout).toContain(`  ${topic}`);
    }
    const lesson = await cli(['nest', 'learn', 'first-container']);
    expect(lesson.code).toBe(0);
    expect(lesson.stdout).toMatch(/^Your first container\n/);
    expect(lesson.stdout).toContain('$ budgie run bundles/hello.bun');
  });

  it('refuses an unknown topic naming the argument and the choices', async () => {
    const r = await cli(['nest', 'learn', 'knitting']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^budgie: topic: expected one of first-container, lan, .*"knitting"/);
  });
});

describe('nest build flags', () => {
  const host = { platform: 'linux', arch: 'x64' };
  it.each([
    [{ all: false }, ['linux/amd64']],
    [
      { all: true },
      [
        'linux/amd64',
        'linux/arm64',
        'darwin/amd64',
        'darwin/arm64',
        'windows/amd64',
        'windows/arm64',
      ],
    ],
    [{ platform: 'windows', arch: 'arm64', all: false }, ['windows/arm64']],
    [{ platform: 'darwin', all: false }, ['darwin/amd64', 'darwin/arm64']],
    [{ arch: 'arm64', all: false }, ['linux/arm64', 'darwin/arm64', 'windows/arm64']],
  ])('%j builds %j (nothing named: this machine)', (flags, targets) => {
    expect(targetsFromFlags(flags, host)).toEqual(targets);
  });

  it('says so when this machine is no target and nothing is named', () => {
    expect(() => targetsFromFlags({ all: false }, { platform: 'freebsd', arch: 'x64' })).toThrow(
      '--platform: this machine (freebsd/x64) is no target; name --platform and --arch, or --all',
    );
  });
});
