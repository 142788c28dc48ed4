import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startAgent, type AgentProcess } from '../support/agent';
import { cli } from '../support/cli';
import { startContainerd, type PrivateContainerd } from '../support/containerd';
import { testImages, type TestImages } from '../support/images';
import { freePort } from '../support/registry';

const run = promisify(execFile);

interface PsRow {
  id: string;
  state: string;
  health: string;
}

/** One HTTP GET on a fresh connection; resolves with the status (0 when it failed). */
function status(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false, timeout: 3000 }, (res) => {
      res.resume();
      res.on('end', () => {
        resolve(res.statusCode ?? 0);
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', () => {
      resolve(0);
    });
  });
}

/** The agent's log, for failure messages. */
let output = (): string => '';

async function until<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * containerd restarts under a running agent (a package upgrade does this): the shims and the
 * replicas keep running, the proxy keeps serving, and once containerd is back the agent follows
 * its events again, re-adopts what runs and replaces what dies.
 */
describe('the agent survives a containerd restart', () => {
  let containerd: PrivateContainerd;
  let images: TestImages;
  let agent: AgentProcess;
  let dir: string;
  let port: number;
  const suffix = randomBytes(3).toString('hex');
  const bridge = `bk${suffix}`;
  const subnet = `10.196.${16 + (parseInt(suffix.slice(0, 2), 16) % 200)}.0/24`;
  // Debug level shows the quiet retries while containerd is down.
  const agentArgs = [
    '--bridge',
    bridge,
    '--subnet',
    subnet,
    '--publish-address',
    '127.0.0.1',
    '--log-level',
    'debug',
  ];

  beforeAll(async () => {
    [containerd, images] = await Promise.all([startContainerd(), testImages()]);
    dir = await mkdtemp(join(tmpdir(), 'budgie-ctdrestart-'));
    agent = await startAgent(containerd.socket, containerd.namespace, agentArgs);
    output = () => agent.output();
    port = await freePort();
  });

  afterAll(async () => {
    await cli(['--socket', agent.socket, 'stop', 'web']).catch(() => undefined);
    await agent.stop();
    await containerd.stop();
    await run('ip', ['link', 'del', bridge]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  async function ps(): Promise<PsRow[]> {
    const r = await cli(['--socket', agent.socket, 'ps', '--format', 'json']);
    if (r.code !== 0) throw new Error(`ps failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as PsRow[];
  }

  const healthyIds = async (n: number): Promise<string[] | undefined> => {
    const rows = await ps();
    const ok =
      rows.length === n && rows.every((x) => x.state === 'running' && x.health === 'healthy');
    return ok ? rows.map((x) => x.id).sort() : undefined;
  };

  async function tasks(): Promise<{ id: string; pid: number; status: string }[]> {
    const out = await run('ctr', [
      '--address',
      containerd.socket,
      '-n',
      containerd.namespace,
      'task',
      'ls',
    ]);
    return out.stdout
      .split('\n')
      .slice(1)
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const [id = '', pid = '0', st = ''] = l.trim().split(/\s+/);
        return { id, pid: Number(pid), status: st };
      });
  }

  it('keeps serving while containerd is down, then re-adopts and replaces via events', async () => {
    const file = join(dir, 'web.bun');
    await writeFile(
      file,
      `version: "1.0"
name: web
image:
  oci_archive: ${images.busyboxOciTar}
ports:
  - container_port: 8080
    host_port: ${port}
command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
healthcheck:
  path: /health
  interval: 300ms
  timeout: 250ms
  retries: 2
replicas:
  min: 2
  max: 2
stop_timeout: 1s
`,
    );
    const started = await cli(['--socket', agent.socket, 'run', file]);
    expect(started.stderr).not.toMatch(/budgie: /);
    expect(started.code).toBe(0);
    const before = await until(() => healthyIds(2), '2 healthy replicas');
    const [first = '', second = ''] = before;
    const pidOf = async (id: string): Promise<number> => {
      const pid = (await tasks()).find((t) => t.id === id)?.pid ?? 0;
      expect(pid).toBeGreaterThan(1);
      return pid;
    };
    const secondPid = await pidOf(second);

    const down = await containerd.restart();
    // The proxy and the healthchecks do not need containerd.
    for (let i = 0; i < 20; i++) expect(await status(port, '/health')).toBe(200);
    // ps answers from the agent's last known state, at once.
    const t0 = Date.now();
    expect((await ps()).map((x) => x.id).sort()).toEqual(before);
    expect(Date.now() - t0).toBeLessThan(3000);
    // A replica that dies while nobody can tell the agent: found by the resync afterwards.
    process.kill(secondPid, 'SIGKILL');
    // Down long enough for the agent to notice and retry twice (quietly: debug, not warn).
    await until(
      () =>
        Promise.resolve(
          (agent.output().match(/containerd events still unavailable/g) ?? []).length >= 2
            ? true
            : undefined,
        ),
      'the agent to retry while containerd is gone',
    );
    for (let i = 0; i < 10; i++) expect(await status(port, '/health')).toBe(200);
    await down.start();

    await until(
      () =>
        Promise.resolve(agent.output().includes('containerd events resumed') ? true : undefined),
      'the events stream to resume',
    );
    // The survivor is re-adopted, the dead one replaced; containerd runs exactly those two.
    const resynced = await until(async () => {
      const ids = await healthyIds(2);
      return ids?.includes(first) === true && !ids.includes(second) ? ids : undefined;
    }, 'the replica that died meanwhile to be replaced');
    expect((await tasks()).map((t) => t.id).sort()).toEqual(resynced);
    expect(agent.output().match(/containerd events interrupted/g)).toHaveLength(1);

    // An exit after the restart arrives as an event: the replica is replaced.
    process.kill(await pidOf(first), 'SIGKILL');
    const after = await until(async () => {
      const ids = await healthyIds(2);
      return ids !== undefined && !ids.includes(first) ? ids : undefined;
    }, 'a healthy replacement');
    expect(after.filter((id) => resynced.includes(id))).toHaveLength(1);
    expect(agent.output()).toMatch(
      new RegExp(`replica exited .*"replica":"${first.slice(0, 12)}".*"via":"event"`),
    );
    expect((await tasks()).map((t) => t.id).sort()).toEqual(after);
    for (let i = 0; i < 10; i++) expect(await status(port, '/health')).toBe(200);
  });
});
