import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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

/** One HTTP GET on a fresh connection; resolves with status and body. */
function fetchOnce(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Apps end to end: a real agent process on a private containerd, replicas in network namespaces
 * on their own bridge, the port proxy on 127.0.0.1, healthchecks, restarts, agent restarts.
 */
describe('budgie run / ps / stop / logs against a real agent', () => {
  let containerd: PrivateContainerd;
  let images: TestImages;
  let agent: AgentProcess;
  let dir: string;
  let port: number;
  const suffix = randomBytes(3).toString('hex');
  const bridge = `ba${suffix}`;
  const subnet = `10.197.${16 + (parseInt(suffix.slice(0, 2), 16) % 200)}.0/24`;
  const agentArgs = ['--bridge', bridge, '--subnet', subnet, '--publish-address', '127.0.0.1'];

  beforeAll(async () => {
    [containerd, images] = await Promise.all([startContainerd(), testImages()]);
    dir = await mkdtemp(join(tmpdir(), 'budgie-apps-'));
    agent = await startAgent(containerd.socket, containerd.namespace, agentArgs);
    port = await freePort();
  });

  afterAll(async () => {
    await cli(['--socket', agent.socket, 'stop', 'web']).catch(() => undefined);
    await agent.stop();
    await containerd.stop();
    await run('ip', ['link', 'del', bridge]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  async function bun(name: string, body: string): Promise<string> {
    const file = join(dir, `${name}.bun`);
    await writeFile(file, body);
    return file;
  }

  const webApp = (min: number, extra = '') => `version: "1.0"
name: web
image:
  oci_archive: ${images.busyboxOciTar}
ports:
  - container_port: 8080
    host_port: ${port}
environment:
  - GREETING=hi
command: ["sh", "-c", "echo started $GREETING on $(hostname); exec httpd -f -p 8080 -h /www"]
healthcheck:
  path: /health
  interval: 500ms
  timeout: 400ms
  retries: 2
replicas:
  min: ${min}
  max: 4
stop_timeout: 1s
${extra}`;

  async function ps(all = false): Promise<{ id: string; state: string; health: string }[]> {
    const args = ['--socket', agent.socket, 'ps', '--format', 'json'];
    if (all) args.push('--all');
    const r = await cli(args);
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as { id: string; state: string; health: string }[];
  }

  async function hostnamesThroughProxy(requests: number): Promise<Set<string>> {
    const names = new Set<string>();
    for (let i = 0; i < requests; i++) {
      const res = await fetchOnce(port, '/cgi-bin/hostname');
      expect(res.status).toBe(200);
      names.add(res.body.trim());
    }
    return names;
  }

  it('runs 3 healthy replicas and the host port reaches every one', async () => {
    const file = await bun('web', webApp(3));
    const r = await cli(['--socket', agent.socket, 'run', file]);
    expect(r.stderr).not.toMatch(/budgie: /);
    expect(r.code).toBe(0);
    const replicas = await ps();
    expect(replicas).toHaveLength(3);
    expect(replicas.every((x) => x.state === 'running' && x.health === 'healthy')).toBe(true);
    const names = await hostnamesThroughProxy(9);
    expect([...names].sort()).toEqual(replicas.map((x) => x.id.slice(0, 12)).sort());
  });

  it('running the same file again changes nothing', async () => {
    const before = (await ps()).map((x) => x.id).sort();
    const r = await cli(['--socket', agent.socket, 'run', join(dir, 'web.bun')]);
    expect(r.code).toBe(0);
    expect((await ps()).map((x) => x.id).sort()).toEqual(before);
  });

  it('a replica killed with SIGKILL costs no failed request and is replaced', async () => {
    const before = await ps();
    const victim = before[0]!.id;
    const tasks = await run('ctr', [
      '--address',
      containerd.socket,
      '-n',
      containerd.namespace,
      'task',
      'ls',
    ]);
    const line = tasks.stdout.split('\n').find((l) => l.startsWith(victim));
    const pid = Number(line?.split(/\s+/)[1]);
    expect(pid).toBeGreaterThan(1);
    process.kill(pid, 'SIGKILL');
    // Requests count from the moment the process is dead (a zombie, or reaped): one already
    // inside it when it died may fail, which no proxy can prevent.
    await until(async () => {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      return stat === '' || / Z /.test(stat);
    }, 'the killed process to die');
    let failures = 0;
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      const res = await fetchOnce(port, '/health').catch(() => ({ status: 0, body: '' }));
      if (res.status !== 200) failures++;
    }
    expect(failures).toBe(0);
    for (let i = 0; i < 100; i++) {
      const now = await ps();
      if (
        now.length === 3 &&
        !now.some((x) => x.id === victim) &&
        now.every((x) => x.health === 'healthy')
      ) {
        return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no healthy replacement: ${JSON.stringify(await ps(true))}`);
  });

  it('logs shows a replica output and the app output with prefixes', async () => {
    const [first] = await ps();
    const short = first!.id.slice(0, 12);
    const one = await cli(['--socket', agent.socket, 'logs', short]);
    expect(one.code).toBe(0);
    expect(one.stdout).toBe(`started hi on ${short}\n`);
    const all = await cli(['--socket', agent.socket, 'logs', 'web']);
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/^([0-9a-f]{12}) \| started hi on \1$/);
    // --since: the agent marks each log's size once a second; the replicas wrote only at start.
    const recent = await cli(['--socket', agent.socket, 'logs', short, '--since', '1h']);
    expect(recent.stdout).toBe(`started hi on ${short}\n`);
    await new Promise((r) => setTimeout(r, 1_500)); // a mark after the start line
    const nowSeconds = String(Math.floor(Date.now() / 1000));
    const none = await cli(['--socket', agent.socket, 'logs', 'web', '--since', nowSeconds]);
    expect(none).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('survives an agent crash: replicas keep serving and are re-adopted, not duplicated', async () => {
    const before = (await ps()).map((x) => x.id).sort();
    await agent.crash();
    agent = await startAgent(containerd.socket, containerd.namespace, agentArgs, {
      dir: agent.dir,
    });
    const after = (await ps()).map((x) => x.id).sort();
    expect(after).toEqual(before);
    const names = await hostnamesThroughProxy(6);
    expect(names.size).toBe(3);
  });

  it('stop removes the app: replicas, port and networks are gone', async () => {
    const r = await cli(['--socket', agent.socket, 'stop', 'web']);
    expect(r.code).toBe(0);
    expect(await ps(true)).toEqual([]);
    await expect(fetchOnce(port, '/health')).rejects.toThrow();
    const netns = await run('ip', ['netns', 'list']);
    expect(netns.stdout).not.toMatch(new RegExp(`budgie-[0-9a-f]{8}-`));
  });

  it('fails clearly when the port is taken and when the healthcheck never passes', async () => {
    const taken = await bun('taken', webApp(1).replace('name: web', 'name: other'));
    const blocker = await cli(['--socket', agent.socket, 'run', await bun('w2', webApp(1))]);
    expect(blocker.code).toBe(0);
    const clash = await cli(['--socket', agent.socket, 'run', taken]);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(
      new RegExp(`budgie: port ${port}/tcp is already published by app "web"`),
    );
    await cli(['--socket', agent.socket, 'stop', 'web']);
    const sick = await bun(
      'sick',
      webApp(1).replace('path: /health', 'path: /missing').replace('name: web', 'name: sick'),
    );
    const bad = await cli(['--socket', agent.socket, 'run', sick]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/healthcheck failed: .*404/);
    await cli(['--socket', agent.socket, 'stop', 'sick']);
  });
});
