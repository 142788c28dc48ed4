import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startAgent, type AgentProcess } from '../support/agent';
import { cli } from '../support/cli';
import { startContainerd, type PrivateContainerd } from '../support/containerd';
import { testImages, type TestImages } from '../support/images';

const run = promisify(execFile);

interface PsRow {
  id: string;
  app: string;
  state: string;
  exitCode: number | null;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * `budgie rm` against a real agent: exited replicas (restart: never leftovers) stay listed with
 * their logs until removed; removing takes the container, its snapshot, its network and its log;
 * a running replica is refused unless forced.
 */
describe('budgie rm against a real agent', () => {
  let containerd: PrivateContainerd;
  let images: TestImages;
  let agent: AgentProcess;
  let dir: string;
  const suffix = randomBytes(3).toString('hex');
  const bridge = `bm${suffix}`;
  const subnet = `10.199.${16 + (parseInt(suffix.slice(0, 2), 16) % 200)}.0/24`;

  beforeAll(async () => {
    [containerd, images] = await Promise.all([startContainerd(), testImages()]);
    dir = await mkdtemp(join(tmpdir(), 'budgie-rm-'));
    await mkdir(join(dir, 'data'));
    agent = await startAgent(containerd.socket, containerd.namespace, [
      '--bridge',
      bridge,
      '--subnet',
      subnet,
    ]);
  });

  afterAll(async () => {
    for (const name of ['job', 'svc']) {
      await cli(['--socket', agent.socket, 'stop', name]).catch(() => undefined);
    }
    await agent.stop();
    await containerd.stop();
    await run('ip', ['link', 'del', bridge]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  const budgie = (...argv: string[]) => cli(['--socket', agent.socket, ...argv]);

  async function ps(all: boolean): Promise<PsRow[]> {
    const r = await budgie('ps', '--format', 'json', ...(all ? ['--all'] : []));
    if (r.code !== 0) throw new Error(`ps failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as PsRow[];
  }

  async function until<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await ps(true))}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function containerIds(): Promise<string[]> {
    const out = await run('ctr', [
      '--address',
      containerd.socket,
      '-n',
      containerd.namespace,
      'containers',
      'ls',
      '-q',
    ]);
    return out.stdout.split('\n').filter((l) => l !== '');
  }

  /** Snapshot keys of both snapshotters the agent may have picked (a replica's key is its ID). */
  async function snapshotKeys(): Promise<string[]> {
    const keys: string[] = [];
    for (const snapshotter of ['overlayfs', 'native']) {
      const out = await run('ctr', [
        '--address',
        containerd.socket,
        '-n',
        containerd.namespace,
        'snapshots',
        '--snapshotter',
        snapshotter,
        'ls',
      ]).catch(() => ({ stdout: '' }));
      keys.push(...out.stdout.split('\n').map((l) => l.split(/\s+/)[0] ?? ''));
    }
    return keys;
  }

  async function bun(name: string, body: string): Promise<string> {
    const file = join(dir, `${name}.bun`);
    await writeFile(file, `version: "1.0"\nname: ${name}\nimage:\n  oci_archive: ${body}`);
    return file;
  }

  it('lists an exited replica with ps --all, keeps its log, and rm removes every trace', async () => {
    // Exits (3) on its first run only: a later replica serves, so exited ones never pile up.
    const file = await bun(
      'job',
      `${images.busyboxOciTar}
volumes:
  - source: ./data
    target: /data
command:
  - sh
  - -c
  - "if [ -e /data/ran ]; then exec httpd -f -p 8080 -h /www; fi; touch /data/ran; echo first run; exit 3"
restart: never
stop_timeout: 1s
`,
    );
    const started = await budgie('run', '--detach', file);
    expect(started.code).toBe(0);
    const exited = await until(async () => {
      const row = (await ps(true)).find((r) => r.app === 'job' && r.state === 'exited');
      return row;
    }, 'the job to exit');
    expect(exited.exitCode).toBe(3);
    expect((await ps(false)).some((r) => r.id === exited.id)).toBe(false);
    const short = exited.id.slice(0, 12);
    const logs = await budgie('logs', short);
    expect(logs).toMatchObject({ code: 0, stdout: 'first run\n' });
    const logFile = join(agent.stateDir, 'containers', `${exited.id}.log`);
    const cniRecord = join(agent.stateDir, 'cni', 'replicas', `${exited.id}.json`);
    expect(await exists(logFile)).toBe(true);
    expect(await exists(cniRecord)).toBe(true);
    expect(await containerIds()).toContain(exited.id);
    expect(await snapshotKeys()).toContain(exited.id);

    const removed = await budgie('rm', short);
    expect(removed).toEqual({ code: 0, stdout: `${short}\n`, stderr: '' });
    expect((await ps(true)).some((r) => r.id === exited.id)).toBe(false);
    expect(await containerIds()).not.toContain(exited.id);
    expect(await snapshotKeys()).not.toContain(exited.id);
    expect(await exists(logFile)).toBe(false);
    expect(await exists(cniRecord)).toBe(false);

    const again = await budgie('rm', short);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`^budgie: no app or replica named ${short}`));
  });

  it('refuses to remove a running replica, in one line, unless --force', async () => {
    const file = await bun(
      'svc',
      `${images.busyboxOciTar}
command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
stop_timeout: 1s
`,
    );
    expect((await budgie('run', file)).code).toBe(0);
    const [svc] = (await ps(false)).filter((r) => r.app === 'svc');
    const short = (svc?.id ?? '').slice(0, 12);
    const refused = await budgie('rm', short);
    expect(refused).toEqual({
      code: 1,
      stdout: '',
      stderr: `budgie: replica ${short} is running: stop it first with 'budgie stop ${short}' (or 'budgie rm --force ${short}')\n`,
    });
    expect((await ps(false)).some((r) => r.id === svc?.id)).toBe(true);

    const noneExited = await budgie('rm', 'svc');
    expect(noneExited.code).toBe(1);
    expect(noneExited.stderr).toMatch(/^budgie: app svc has no exited replicas to remove/);

    const forced = await budgie('rm', '--force', short);
    expect(forced).toEqual({ code: 0, stdout: `${short}\n`, stderr: '' });
    expect(await containerIds()).not.toContain(svc?.id);

    const wholeApp = await budgie('rm', '-f', 'svc');
    expect(wholeApp.code).toBe(0);
    expect((await ps(true)).some((r) => r.app === 'svc')).toBe(false);
  });
});
