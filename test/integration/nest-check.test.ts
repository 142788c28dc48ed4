import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerdClient } from '../../src/containerd/client';
import { hostProbes } from '../../src/nest/host-probes';
import { containerdProbe } from '../../src/containerd/probe';
import { cli } from '../support/cli';
import { startContainerd, type PrivateContainerd } from '../support/containerd';

interface Row {
  check: string;
  status: string;
  detail: string;
  fix: string | null;
}

/** The real probes, in-process: what `budgie nest check` runs, minus the process start. */
async function nestCheck(args: string[]): Promise<{ code: number; rows: Row[]; stderr: string }> {
  const r = await cli(['nest', 'check', '--json', '--config', '/dev/null', ...args], {
    systemProbes: () => Promise.resolve(hostProbes(containerdProbe)),
  });
  return { code: r.code, rows: JSON.parse(r.stdout) as Row[], stderr: r.stderr };
}

describe('budgie nest check against a real containerd', () => {
  let containerd: PrivateContainerd;
  let dir: string;

  beforeAll(async () => {
    containerd = await startContainerd();
    dir = await mkdtemp('/tmp/bnest-');
  });

  afterAll(async () => {
    await containerd.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('says containerd is ok, with its version', async () => {
    const client = ContainerdClient.connect({ socket: containerd.socket, namespace: 'default' });
    const { version } = await client.version();
    client.close();
    const { rows } = await nestCheck(['--containerd', containerd.socket, '--state-dir', dir]);
    expect(rows.find((r) => r.check === 'containerd')).toEqual({
      check: 'containerd',
      status: 'ok',
      detail: `${version} at ${containerd.socket}`,
      fix: null,
    });
    // This machine runs the integration tests, so it has everything else the agent needs too.
    expect(rows.filter((r) => r.status === 'missing')).toEqual([]);
  });

  it('says containerd is missing and exits non-zero where nothing listens', async () => {
    const socket = join(dir, 'nobody.sock');
    const started = Date.now();
    const { code, rows, stderr } = await nestCheck([
      '--containerd',
      socket,
      '--socket',
      join(dir, 'agent.sock'),
    ]);
    expect(code).toBe(1);
    expect(stderr).toBe('budgie: nest check: missing: containerd\n');
    const row = rows.find((r) => r.check === 'containerd');
    expect(row).toMatchObject({ status: 'missing', fix: expect.stringMatching(/containerd/) });
    expect(row?.detail).toContain(socket);
    expect(rows.find((r) => r.check === 'agent-socket')).toMatchObject({ status: 'warning' });
    // The check must not hang on an absent daemon: its timeout is 2 s.
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
