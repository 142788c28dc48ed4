import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startAgent, type AgentProcess } from '../support/agent';
import { cli, type CliRun } from '../support/cli';
import { startContainerd, type PrivateContainerd } from '../support/containerd';
import { Ctr } from '../support/ctr';
import { fetchOnce, pause, until } from '../support/http-get';
import { testImages, type TestImages } from '../support/images';
import { freePort } from '../support/registry';

const run = promisify(execFile);

interface Row {
  id: string;
  app: string;
  state: string;
  health: string;
}

/**
 * The lifecycle of apps on a real agent, end to end: unhealthy replicas leave the rotation and are
 * replaced, a changed .bun rolls out without a failed request, a kill -9 of the agent costs the
 * port under 2 s, volumes reach the host, and bad input gets one clear line.
 *
 * UDP is covered in apps-udp.test.ts: the busybox image (Debian's busybox-static 1.35) has no
 * UDP server usable as an echo (its nc has no -u; no tftpd, dnsd or ntpd), so that test compiles
 * one of its own (test/fixtures/udp-echo.c).
 */
describe('app lifecycle against a real agent', () => {
  let containerd: PrivateContainerd;
  let ctr: Ctr;
  let images: TestImages;
  let agent: AgentProcess;
  let dir: string;
  let webPort: number;
  let filesPort: number;
  const suffix = randomBytes(3).toString('hex');
  const bridge = `bl${suffix}`;
  const subnet = `10.198.${16 + (parseInt(suffix.slice(0, 2), 16) % 200)}.0/24`;
  const agentArgs = ['--bridge', bridge, '--subnet', subnet, '--publish-address', '127.0.0.1'];

  /** What beforeAll started, undone in reverse even when it failed half-way. */
  const cleanup: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'budgie-lifecycle-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    cleanup.push(() => run('ip', ['link', 'del', bridge]));
    containerd = await startContainerd();
    cleanup.push(() => containerd.stop());
    ctr = new Ctr(containerd);
    images = await testImages();
    agent = await startAgent(containerd.socket, containerd.namespace, agentArgs);
    cleanup.push(async () => {
      // `agent` is whichever runs last (the test restarts it).
      for (const app of ['web', 'files']) await cli(['--socket', agent.socket, 'stop', app]);
      await agent.stop();
    });
    webPort = await freePort();
    filesPort = await freePort();
  });

  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  const budgie = (...args: string[]): Promise<CliRun> => cli(['--socket', agent.socket, ...args]);

  async function bun(name: string, body: string): Promise<string> {
    const file = join(dir, `${name}.bun`);
    await writeFile(file, body);
    return file;
  }

  const webApp = (greeting: string): string => `version: "1.0"
name: web
image:
  oci_archive: ${images.busyboxOciTar}
ports:
  - container_port: 8080
    host_port: ${webPort}
environment:
  - GREETING=${greeting}
command: ["sh", "-c", "echo started $GREETING on $(hostname); exec httpd -f -p 8080 -h /www"]
healthcheck:
  path: /health
  interval: 500ms
  timeout: 400ms
  retries: 2
replicas:
  min: 3
  max: 6
stop_timeout: 1s
`;

  async function ps(app?: string, all = false): Promise<Row[]> {
    const r = await budgie('ps', '--format', 'json', ...(all ? ['--all'] : []));
    expect(r.stderr).toBe('');
    const rows = JSON.parse(r.stdout) as Row[];
    return app === undefined ? rows : rows.filter((x) => x.app === app);
  }

  /** The app's rows once it runs exactly `n` replicas, all healthy and none of `gone`. */
  function settled(app: string, n: number, gone: string[] = [], ms = 15_000): Promise<Row[]> {
    return until(`${n} healthy ${app} replicas`, ms, async () => {
      const rows = await ps(app);
      const ok =
        rows.length === n &&
        rows.every((x) => x.state === 'running' && x.health === 'healthy') &&
        !rows.some((x) => gone.includes(x.id));
      return ok ? rows : undefined;
    });
  }

  let webIds: string[] = [];

  it('runs web with 3 healthy replicas behind the host port', async () => {
    const r = await budgie('run', await bun('web', webApp('hi')));
    expect(r.stderr).not.toMatch(/budgie: /);
    expect(r.code).toBe(0);
    const rows = await settled('web', 3);
    webIds = rows.map((x) => x.id);
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      seen.add((await fetchOnce(webPort, '/cgi-bin/hostname')).body.trim());
    }
    expect([...seen].sort()).toEqual(webIds.map((id) => id.slice(0, 12)).sort());
  });

  it('takes an unhealthy replica out of rotation at once and replaces it', async () => {
    const victim = webIds[0] ?? '';
    const short = victim.slice(0, 12);
    const pid = await ctr.taskPid(victim);
    expect(pid).toBeGreaterThan(1);
    // The replica keeps serving everything but its healthcheck.
    await rm(`/proc/${pid}/root/www/health`);
    let markedAt: number | undefined;
    let victimHitsAfterMark = 0;
    let requestsAfterMark = 0;
    const failed: string[] = [];
    const replaced = await until('a replacement for the unhealthy replica', 20_000, async () => {
      const rows = await ps('web');
      const row = rows.find((x) => x.id === victim);
      if (markedAt === undefined && (row === undefined || row.health === 'unhealthy')) {
        markedAt = Date.now();
      }
      for (let i = 0; i < 3; i++) {
        const res = await fetchOnce(webPort, '/cgi-bin/hostname');
        if (res.status !== 200) failed.push(`${res.status} ${res.body}`);
        if (markedAt === undefined) continue;
        requestsAfterMark++;
        if (res.body.trim() === short) victimHitsAfterMark++;
      }
      const healthy = rows.filter((x) => x.state === 'running' && x.health === 'healthy');
      if (markedAt === undefined || row !== undefined || healthy.length !== 3) return undefined;
      return { atMs: Date.now(), rows };
    });
    expect(failed).toEqual([]);
    expect(requestsAfterMark).toBeGreaterThan(0);
    expect(victimHitsAfterMark).toBe(0);
    expect(replaced.atMs - (markedAt ?? 0)).toBeLessThan(5000);
    // It leaves `ps` when stopped; `ps --all` once its container and network are removed too.
    await until('the unhealthy replica to be removed', 10_000, async () =>
      (await ps('web', true)).some((x) => x.id === victim) ? undefined : true,
    );
    expect(replaced.rows.map((x) => x.id)).toEqual(expect.arrayContaining(webIds.slice(1)));
    webIds = replaced.rows.map((x) => x.id);
  });

  it('rolls a changed .bun out one replica at a time without a failed request', async () => {
    const old = [...webIds];
    const done = new AbortController();
    const failed: string[] = [];
    let requests = 0;
    const client = (async () => {
      while (!done.signal.aborted) {
        const res = await fetchOnce(webPort, '/health');
        requests++;
        if (res.status !== 200) failed.push(`${res.status} ${res.body}`);
      }
    })();
    const broken: string[] = [];
    const sampler = (async () => {
      while (!done.signal.aborted) {
        const rows = await ps('web');
        const active = rows.filter((x) => x.state === 'created' || x.state === 'running');
        const serving = active.filter((x) => x.health === 'healthy');
        const pendingNew = active.filter((x) => !old.includes(x.id) && x.health !== 'healthy');
        if (active.length > 4 || serving.length < 3 || pendingNew.length > 1) {
          broken.push(
            JSON.stringify(rows.map((x) => `${x.id.slice(0, 6)} ${x.state} ${x.health}`)),
          );
        }
        await pause(20);
      }
    })();
    let r: CliRun;
    let rows: Row[];
    try {
      r = await budgie('run', await bun('web', webApp('hello')));
      rows = await settled('web', 3, old, 30_000);
      // Drained connections to the last old replica end a little after it leaves ps.
      await pause(300);
    } finally {
      done.abort();
      await Promise.all([client, sampler]);
    }
    expect(r.stderr).not.toMatch(/budgie: /);
    expect(r.code).toBe(0);
    expect(failed).toEqual([]);
    expect(requests).toBeGreaterThan(20);
    expect(broken).toEqual([]);
    // The last old replica leaves `ps` when it stops, and `ps --all` once it is removed.
    const ids = rows.map((x) => x.id).sort();
    await until('the old replicas removed', 5000, async () => {
      const all = (await ps('web', true)).map((x) => x.id).sort();
      return JSON.stringify(all) === JSON.stringify(ids) ? true : undefined;
    });
    webIds = rows.map((x) => x.id);
    for (let i = 0; i < 6; i++) {
      const res = await fetchOnce(webPort, '/cgi-bin/env');
      expect(res.body).toMatch(/^GREETING=hello$/m);
    }
    const logs = await budgie('logs', 'web');
    expect(logs.stdout.trim().split('\n').sort()).toEqual(
      webIds.map((id) => `${id.slice(0, 12)} | started hello on ${id.slice(0, 12)}`).sort(),
    );
  });

  it('mounts an rw volume the host sees and a ro volume httpd serves but cannot write', async () => {
    const data = join(dir, 'files-data');
    const site = join(dir, 'files-site');
    await mkdir(data);
    await mkdir(site);
    const marker = randomBytes(8).toString('hex');
    await writeFile(join(site, 'index.html'), `from the host ${marker}\n`);
    await writeFile(join(site, 'health'), 'ok');
    const file = await bun(
      'files',
      `version: "1.0"
name: files
image:
  oci_archive: ${images.busyboxOciTar}
ports:
  - container_port: 8080
    host_port: ${filesPort}
volumes:
  - source: ./files-data
    target: /data
  - source: ./files-site
    target: /site
    mode: ro
command:
  - sh
  - -c
  - >-
    echo written by $(hostname) > /data/out.txt;
    if touch /site/probe 2>/dev/null; then echo site writable; else echo site read-only; fi;
    exec httpd -f -p 8080 -h /site
healthcheck:
  path: /health
  interval: 500ms
  timeout: 400ms
  retries: 2
stop_timeout: 1s
`,
    );
    const r = await budgie('run', file);
    expect(r.stderr).not.toMatch(/budgie: /);
    expect(r.code).toBe(0);
    const [replica] = await settled('files', 1);
    const short = (replica?.id ?? '').slice(0, 12);
    expect(await readFile(join(data, 'out.txt'), 'utf8')).toBe(`written by ${short}\n`);
    expect(await fetchOnce(filesPort, '/')).toEqual({
      status: 200,
      body: `from the host ${marker}\n`,
    });
    // A bind mount, not a copy: what the host writes later is served too.
    await writeFile(join(site, 'later.txt'), 'written after start\n');
    expect((await fetchOnce(filesPort, '/later.txt')).body).toBe('written after start\n');
    const logs = await budgie('logs', 'files');
    // One replica: no prefix.
    expect(logs.stdout).toBe('site read-only\n');
    await expect(stat(join(site, 'probe'))).rejects.toThrow(/ENOENT/);
  });

  it('serves the port again within 2 s of a new agent starting after kill -9', async () => {
    const before = (await ps()).map((x) => x.id).sort();
    expect(before).toHaveLength(4);
    expect(await ctr.containerIds()).toEqual(before);
    // Every container created from here on: re-adoption must create none, not even briefly.
    const events = await ctr.events();
    let startMs = 0;
    let servedAt: number | undefined;
    let seen: string;
    try {
      await agent.crash();
      // The proxy lived in the agent: the port is closed until the new one re-adopts.
      expect((await fetchOnce(webPort, '/health')).status).toBe(0);
      startMs = Date.now();
      const poller = (async () => {
        while (servedAt === undefined && Date.now() - startMs < 30_000) {
          const res = await fetchOnce(webPort, '/health');
          if (res.status === 200) servedAt = Date.now();
          else await pause(10);
        }
      })();
      agent = await startAgent(containerd.socket, containerd.namespace, agentArgs, {
        dir: agent.dir,
      });
      await poller;
      // Long enough for a probe to answer and any start it would cause to reach containerd.
      await settled('web', 3);
    } finally {
      seen = events.stop();
    }
    expect(servedAt).toBeDefined();
    expect((servedAt ?? Infinity) - startMs).toBeLessThan(2000);
    expect(seen).not.toMatch(/\/containers\/create/);
    expect((await ps(undefined, true)).map((x) => x.id).sort()).toEqual(before);
    expect(await ctr.containerIds()).toEqual(before);
    expect((await ps('web')).map((x) => x.id).sort()).toEqual([...webIds].sort());
    const names = new Set<string>();
    for (let i = 0; i < 6; i++) {
      names.add((await fetchOnce(webPort, '/cgi-bin/hostname')).body.trim());
    }
    expect(names.size).toBe(3);
    expect((await fetchOnce(filesPort, '/health')).status).toBe(200);
  });

  /** Asserts a failed command printed exactly one `budgie: ` line matching `pattern`. */
  function expectOneLineError(r: CliRun, pattern: RegExp): void {
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^budgie: [^\n]+\n$/);
    expect(r.stderr).toMatch(pattern);
    expect(r.code).toBe(1);
  }

  it('answers unknown IDs with one line and a non-zero exit', async () => {
    const before = (await ps()).map((x) => x.id).sort();
    for (const command of ['stop', 'logs']) {
      expectOneLineError(
        await budgie(command, 'nope'),
        /^budgie: no app or replica named nope on this node/,
      );
      expectOneLineError(await budgie(command, 'abc0123'), /no app or replica named abc0123/);
    }
    expect((await ps()).map((x) => x.id).sort()).toEqual(before);
  });

  it('refuses an ambiguous ID prefix and names the candidates', async () => {
    // IDs are random: with 7 replicas on the node two share a first hex digit 94% of the time;
    // otherwise replace one (each new ID matches another's digit 6 times in 16) until they do.
    expect((await budgie('scale', 'web', '6')).code).toBe(0);
    await settled('web', 6);
    const shared = await until('two replicas sharing a first digit', 40_000, async () => {
      const rows = await ps();
      const digit = rows.map((x) => x.id[0]).find((d, i, all) => all.indexOf(d) !== i);
      if (digit !== undefined) return { digit, rows };
      const victim = rows.find((x) => x.app === 'web')?.id ?? 'missing';
      // Stopping a replica lowers the scale: raise it again for a replacement.
      expect((await budgie('stop', victim.slice(0, 12))).code).toBe(0);
      expect((await budgie('scale', 'web', '6')).code).toBe(0);
      await settled('web', 6, [victim]);
      return undefined;
    });
    const matching = shared.rows.filter((x) => x.id.startsWith(shared.digit));
    for (const command of ['stop', 'logs']) {
      const r = await budgie(command, shared.digit);
      expectOneLineError(
        r,
        new RegExp(`^budgie: replica ID prefix ${shared.digit} is ambiguous: it matches`),
      );
      for (const row of matching) expect(r.stderr).toContain(row.id.slice(0, 12));
    }
    expect((await ps()).map((x) => x.id).sort()).toEqual(shared.rows.map((x) => x.id).sort());
    expect((await budgie('scale', 'web', '3')).code).toBe(0);
    webIds = (await settled('web', 3)).map((x) => x.id);
  });

  it('names file, line, column and field of an invalid .bun given to run', async () => {
    const file = await bun(
      'broken',
      webApp('hi').replace('name: web', 'name: broken').replace('min: 3', 'min: three'),
    );
    const r = await budgie('run', file);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `budgie: ${file}:17:8: replicas.min: expected an integer 1-100, got "three"\n`,
    );
    expect((await ps()).some((x) => x.app === 'broken')).toBe(false);
  });

  it('says in one line that no agent answers, and how to start one', async () => {
    const socket = join(dir, 'nobody-here.sock');
    for (const args of [['ps'], ['stop', 'web'], ['run', join(dir, 'web.bun')]]) {
      const r = await cli(['--socket', socket, ...args]);
      expectOneLineError(
        r,
        new RegExp(`^budgie: no Budgie agent answers at ${socket}: start one with 'budgie agent'`),
      );
    }
    // Nothing reached the real agent.
    expect((await ps('web')).map((x) => x.id).sort()).toEqual([...webIds].sort());
  });

  it('stopping an app while its replicas start leaves no container behind', async () => {
    expect((await budgie('stop', 'web')).code).toBe(0);
    expect(await ctr.containerIds()).toEqual((await ps('files')).map((x) => x.id));
    const r = await budgie('run', '--detach', join(dir, 'web.bun'));
    expect(r.code).toBe(0);
    // The replicas are still being created (network, container, task) when the stop comes.
    const stopped = await budgie('stop', 'web');
    expect(stopped.stderr).toBe('');
    expect(stopped.code).toBe(0);
    expect(await ps('web', true)).toEqual([]);
    expect(await ctr.containerIds()).toEqual((await ps('files')).map((x) => x.id));
  });

  it('stop frees the last app: replicas, containers and ports', async () => {
    expect((await budgie('stop', 'files')).code).toBe(0);
    expect(await ps(undefined, true)).toEqual([]);
    expect(await ctr.containerIds()).toEqual([]);
    expect((await fetchOnce(webPort, '/health')).status).toBe(0);
    expect((await fetchOnce(filesPort, '/health')).status).toBe(0);
  });
});
