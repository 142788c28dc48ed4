import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ContainerdClient } from '../../src/containerd/client';
import { ContainerdRuntime } from '../../src/containerd/container-runtime';
import {
  ConflictError,
  FailedPreconditionError,
  NotFoundError,
  type BudgieError,
} from '../../src/errors';
import { silentLogger } from '../../src/log';
import type {
  ContainerCreateOptions,
  ContainerInfo,
  RuntimeEvent,
} from '../../src/runtime/containers';
import { startContainerd, type PrivateContainerd } from '../support/containerd';
import { BUSYBOX_DOCKER_TAG, testImages } from '../support/images';

const run = promisify(execFile);
const IMAGE = `docker.io/library/${BUSYBOX_DOCKER_TAG}`;
const SNAPSHOTTER = 'overlayfs';

describe('ContainerdRuntime against a private containerd', () => {
  let containerd: PrivateContainerd;
  let client: ContainerdClient;
  let runtime: ContainerdRuntime;
  let work: string;

  beforeAll(async () => {
    const images = await testImages();
    containerd = await startContainerd();
    client = ContainerdClient.connect({
      socket: containerd.socket,
      namespace: containerd.namespace,
    });
    await client.ensureNamespace();
    // Test setup only: the product imports through Budgie's image store, never through ctr.
    await run('ctr', [
      '--address',
      containerd.socket,
      '-n',
      containerd.namespace,
      'images',
      'import',
      '--snapshotter',
      SNAPSHOTTER,
      images.busyboxDockerTar,
    ]);
    runtime = new ContainerdRuntime(client, { snapshotter: SNAPSHOTTER, log: silentLogger() });
    work = await mkdtemp('/tmp/budgie-crt-');
  });

  afterAll(async () => {
    client.close();
    await containerd.stop();
    await rm(work, { recursive: true, force: true });
  });

  /** Options for a fresh container: a new random ID, its log under the test's dir. */
  function options(
    command: string[],
    more: Partial<ContainerCreateOptions> = {},
  ): ContainerCreateOptions {
    const id = randomBytes(32).toString('hex');
    return {
      id,
      image: IMAGE,
      labels: { 'budgie.test': 'runtime' },
      command,
      environment: [],
      volumes: [],
      logPath: join(work, 'logs', id.slice(0, 12), 'output.log'),
      ...more,
    };
  }

  /** The log once it has stopped growing: the shim's copy may still be writing to it. */
  async function settledLog(path: string): Promise<string> {
    let previous = await readFile(path, 'utf8');
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const current = await readFile(path, 'utf8');
      if (current === previous && i >= 2) return current;
      previous = current;
    }
    return previous;
  }

  /**
   * Creates and starts a container and waits for it to exit; returns its exit code, what get()
   * said then, and its log. The task is deleted before the log is read: the shim copies output
   * asynchronously and deleting waits for the copy to finish, but only for up to 2 s.
   */
  async function runToExit(
    opts: ContainerCreateOptions,
  ): Promise<{ code: number; info: ContainerInfo; log: string }> {
    await runtime.create(opts);
    await runtime.start(opts.id);
    const { exitStatus } = await client.tasks.wait(opts.id, '', { timeoutMs: 30_000 });
    const info = await runtime.get(opts.id);
    await client.tasks.delete(opts.id);
    return { code: exitStatus, info, log: await settledLog(opts.logPath) };
  }

  it('runs the command with hostname, environment and workdir; stdout and stderr in the log', async () => {
    const opts = options(
      [
        'sh',
        '-c',
        'echo to-stdout; echo to-stderr >&2; echo host=$(hostname); echo greeting=$GREETING; echo path=$PATH; echo cwd=$(pwd)',
      ],
      {
        hostname: 'budgie-host-1',
        environment: [{ name: 'GREETING', value: 'hello world' }],
        workdir: '/www',
      },
    );
    const { code, info, log } = await runToExit(opts);
    expect(code).toBe(0);
    const lines = log.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'to-stdout',
        'to-stderr',
        'host=budgie-host-1',
        'greeting=hello world',
        // From the image's Env, merged with the caller's.
        'path=/bin',
        'cwd=/www',
      ]),
    );
    expect(info).toMatchObject({
      id: opts.id,
      image: IMAGE,
      labels: { 'budgie.test': 'runtime' },
      state: 'stopped',
      exitCode: 0,
      logPath: opts.logPath,
    });
    expect(info.exitedAtMs).toBeGreaterThan(info.createdAtMs);
  });

  it('names the host by the short ID when no hostname is given', async () => {
    const opts = options(['hostname']);
    const { log } = await runToExit(opts);
    expect(log).toBe(`${opts.id.slice(0, 12)}\n`);
  });

  it("runs the image's Cmd when no command is given", async () => {
    const opts = options([]);
    delete opts.command;
    await runtime.create(opts);
    await runtime.start(opts.id);
    const info = await runtime.get(opts.id);
    expect(info.state).toBe('running');
    // busybox httpd as PID 1 ignores SIGTERM: the stop falls back to SIGKILL.
    expect((await runtime.stop(opts.id, 200)).code).toBe(137);
  });

  it('binds volumes: read-only ones refuse writes, writable ones show up on the host', async () => {
    const ro = join(work, 'vol-ro');
    const rw = join(work, 'vol-rw');
    await mkdir(ro, { recursive: true });
    await mkdir(rw, { recursive: true });
    await writeFile(join(ro, 'seed'), 'seeded\n');
    const opts = options(
      [
        'sh',
        '-c',
        'cat /data/ro/seed; if touch /data/ro/new; then echo ro-writable; else echo ro-refused; fi; echo from-inside > /data/rw/written',
      ],
      {
        volumes: [
          { source: ro, target: '/data/ro', mode: 'ro' },
          { source: rw, target: '/data/rw', mode: 'rw' },
        ],
      },
    );
    const { code, log } = await runToExit(opts);
    expect(code).toBe(0);
    expect(log).toContain('seeded\n');
    expect(log).toContain('ro-refused\n');
    expect(log).toMatch(/Read-only file system/);
    expect(existsSync(join(ro, 'new'))).toBe(false);
    expect(await readFile(join(rw, 'written'), 'utf8')).toBe('from-inside\n');
  });

  it('stops a process that ignores SIGTERM with SIGKILL after the grace period', async () => {
    const opts = options(['sh', '-c', 'trap "" TERM; echo ready; sleep 1000']);
    await runtime.create(opts);
    const pid = await runtime.start(opts.id);
    expect(pid).toBeGreaterThan(0);
    // Starting again is a no-op that reports the running process.
    expect(await runtime.start(opts.id)).toBe(pid);
    await waitForLog(opts.logPath, 'ready\n');
    const started = Date.now();
    const status = await runtime.stop(opts.id, 1000);
    const tookMs = Date.now() - started;
    expect(status.code).toBe(137);
    expect(tookMs).toBeGreaterThanOrEqual(1000);
    expect(tookMs).toBeLessThan(10_000);
    expect(status.atMs).toBeGreaterThanOrEqual(started);
    // Stopping again reports the same exit.
    expect(await runtime.stop(opts.id, 1000)).toEqual(status);
  });

  it('returns as soon as a process exits on SIGTERM, with its exit code', async () => {
    // `sleep & wait`: a trap runs only once the foreground command returns, and wait returns at once.
    const opts = options(['sh', '-c', 'trap "exit 3" TERM; echo ready; sleep 1000 & wait']);
    await runtime.create(opts);
    await runtime.start(opts.id);
    await waitForLog(opts.logPath, 'ready\n');
    const started = Date.now();
    const status = await runtime.stop(opts.id, 30_000);
    expect(status.code).toBe(3);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await runtime.get(opts.id)).state).toBe('stopped');
  });

  it('reports start and exit through events()', async () => {
    const subscription = new AbortController();
    const seen: RuntimeEvent[] = [];
    const opts = options(['sh', '-c', 'exit 7']);
    const collected = (async () => {
      for await (const event of runtime.events(subscription.signal)) {
        if (event.id !== opts.id) continue;
        seen.push(event);
        if (event.type === 'exit') break;
      }
    })();
    // containerd does not confirm a subscription: give the stream a moment to open.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await runtime.create(opts);
    const pid = await runtime.start(opts.id);
    await withTimeout(collected, 20_000, 'no exit event');
    expect(seen).toEqual([
      { type: 'start', id: opts.id, pid },
      { type: 'exit', id: opts.id, code: 7, atMs: expect.any(Number) },
    ]);
    subscription.abort();
  });

  it('ends the events iteration quietly when its signal aborts', async () => {
    const subscription = new AbortController();
    const done = (async () => {
      const events: RuntimeEvent[] = [];
      for await (const event of runtime.events(subscription.signal)) events.push(event);
      return events;
    })();
    setTimeout(() => {
      subscription.abort();
    }, 200);
    await expect(done).resolves.toBeDefined();
  });

  it('lists containers by labels, with the labels the caller gave', async () => {
    const app = `list-${randomBytes(4).toString('hex')}`;
    const a = options(['true'], { labels: { 'budgie.app': app, 'budgie.replica': '1' } });
    const b = options(['true'], { labels: { 'budgie.app': app, 'budgie.replica': '2' } });
    const other = options(['true'], { labels: { 'budgie.app': `${app}-other` } });
    for (const o of [a, b, other]) await runtime.create(o);
    await runtime.start(b.id);
    await client.tasks.wait(b.id, '', { timeoutMs: 30_000 });

    const listed = await runtime.list({ 'budgie.app': app });
    expect(listed.map((c) => c.id).sort()).toEqual([a.id, b.id].sort());
    const byId = new Map(listed.map((c) => [c.id, c]));
    expect(byId.get(a.id)).toMatchObject({ state: 'created', labels: a.labels });
    expect(byId.get(b.id)).toMatchObject({ state: 'stopped', exitCode: 0, labels: b.labels });
    expect(byId.get(a.id)?.pid).toBeUndefined();

    const one = await runtime.list({ 'budgie.app': app, 'budgie.replica': '2' });
    expect(one.map((c) => c.id)).toEqual([b.id]);
    const all = (await runtime.list()).map((c) => c.id);
    expect(all).toEqual(expect.arrayContaining([a.id, b.id, other.id]));
  });

  it('removes task, container and snapshot, and tolerates removing again', async () => {
    const opts = options(['true']);
    await runtime.create(opts);
    await runtime.start(opts.id);
    await client.tasks.wait(opts.id, '', { timeoutMs: 30_000 });
    await runtime.remove(opts.id);
    await expect(client.tasks.get(opts.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.containers.get(opts.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.snapshots.stat(SNAPSHOTTER, opts.id)).rejects.toBeInstanceOf(NotFoundError);
    await runtime.remove(opts.id);
    await expect(runtime.get(opts.id)).rejects.toThrow(
      `container ${opts.id.slice(0, 12)} not found on this node`,
    );
  });

  it('refuses to remove a running container', async () => {
    const opts = options(['sleep', '1000']);
    await runtime.create(opts);
    await runtime.start(opts.id);
    const removal = runtime.remove(opts.id);
    await expect(removal).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(removal).rejects.toThrow('is running: stop it before removing it');
    await runtime.stop(opts.id, 100);
    await runtime.remove(opts.id);
  });

  it('removes a container that was never started', async () => {
    const opts = options(['true']);
    await runtime.create(opts);
    await runtime.remove(opts.id);
    await expect(client.snapshots.stat(SNAPSHOTTER, opts.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('names an image that is not on this node', async () => {
    const opts = options(['true'], { image: 'docker.io/library/not-here:1' });
    const creation = runtime.create(opts);
    await expect(creation).rejects.toBeInstanceOf(NotFoundError);
    await expect(creation).rejects.toThrow(
      'image docker.io/library/not-here:1 is not on this node: pull or import it first',
    );
    await expect(client.snapshots.stat(SNAPSHOTTER, opts.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses a duplicate ID and leaves the first container intact', async () => {
    const opts = options(['sh', '-c', 'echo first']);
    await runtime.create(opts);
    const again = runtime.create({ ...opts, command: ['sh', '-c', 'echo second'] });
    await expect(again).rejects.toBeInstanceOf(ConflictError);
    await expect(again).rejects.toThrow(`container ${opts.id.slice(0, 12)} already exists`);
    await runtime.start(opts.id);
    await waitForLog(opts.logPath, 'first\n');
    expect(await readFile(opts.logPath, 'utf8')).toBe('first\n');
  });

  it('explains a command that cannot run, without containerd internals, and cleans up', async () => {
    const opts = options(['/no/such/program']);
    await runtime.create(opts);
    const start = runtime.start(opts.id);
    await expect(start).rejects.toBeInstanceOf(FailedPreconditionError);
    const message = await start.then(
      () => '',
      (err: unknown) => (err as BudgieError).message,
    );
    expect(message).toMatch(/^container [0-9a-f]{12} could not start: .*\/no\/such\/program/);
    expect(message).not.toMatch(/OCI runtime|rpc error|Tasks\.Create/);
    await expect(client.tasks.get(opts.id)).rejects.toBeInstanceOf(NotFoundError);
    await runtime.remove(opts.id);
  });

  it('starts a stopped container again with a new task, appending to the log', async () => {
    const opts = options(['sh', '-c', 'echo run']);
    await runtime.create(opts);
    const first = await runtime.start(opts.id);
    await client.tasks.wait(opts.id, '', { timeoutMs: 30_000 });
    expect(await runtime.start(opts.id)).not.toBe(first);
    await waitForLog(opts.logPath, 'run\nrun\n');
    expect(await readFile(opts.logPath, 'utf8')).toBe('run\nrun\n');
  });
});

/** Polls a log until it contains `text`: the shim copies output asynchronously. */
async function waitForLog(path: string, text: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const log = await readFile(path, 'utf8').catch(() => '');
    if (log.includes(text)) return;
    if (Date.now() > deadline) throw new Error(`${path} never contained ${text}: ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(what));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
