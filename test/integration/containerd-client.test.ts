import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TaskStatus } from '../../src/containerd/api';
import { ContainerdClient } from '../../src/containerd/client';
import { decodeEvent } from '../../src/containerd/event-decode';
import { jsonAny, OCI_SPEC_TYPE_URL } from '../../src/containerd/wellknown';
import { buildSpec } from '../../src/oci/spec';
import { ConflictError, NotFoundError, UnavailableError } from '../../src/errors';
import { startContainerd, type PrivateContainerd } from '../support/containerd';

describe('containerd client against a private containerd', () => {
  let containerd: PrivateContainerd;
  let client: ContainerdClient;

  beforeAll(async () => {
    containerd = await startContainerd();
    client = ContainerdClient.connect({
      socket: containerd.socket,
      namespace: containerd.namespace,
    });
  });

  afterAll(async () => {
    client.close();
    await containerd.stop();
  });

  it('answers Version with 1.6.x', async () => {
    const { version } = await client.version();
    expect(version).toMatch(/^v?1\.6\./);
  });

  it('creates the namespace once and tolerates ensuring it again', async () => {
    await client.ensureNamespace(containerd.namespace, { 'budgie.test': 'yes' });
    await client.ensureNamespace(containerd.namespace);
    const ns = await client.namespaces.get(containerd.namespace);
    expect(ns.labels).toEqual({ 'budgie.test': 'yes' });
    await expect(client.namespaces.create(containerd.namespace)).rejects.toBeInstanceOf(
      ConflictError,
    );
  });

  it('writes a blob through the Write stream and reads it back', async () => {
    // Larger than one WRITE chunk, so that pipelining and offsets are exercised.
    const blob = Buffer.alloc(2.5 * 1024 * 1024 + 7, 'budgie ');
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const progress: number[] = [];
    const result = await client.content.write({
      ref: `test-${digest}`,
      expected: digest,
      total: blob.length,
      labels: { 'budgie.test': 'blob' },
      open: (offset) => [blob.subarray(offset)],
      onProgress: (written) => progress.push(written),
    });
    expect(result).toEqual({ digest, size: blob.length, existed: false });
    expect(progress.at(-1)).toBe(blob.length);

    const info = await client.content.info(digest);
    expect(info.size).toBe(blob.length);
    expect(info.labels).toEqual({ 'budgie.test': 'blob' });
    expect((await client.content.readAll(digest)).equals(blob)).toBe(true);

    const tail: Buffer[] = [];
    for await (const chunk of client.content.read(digest, { offset: blob.length - 10 }))
      tail.push(chunk);
    expect(Buffer.concat(tail).equals(blob.subarray(-10))).toBe(true);

    const again = await client.content.write({
      ref: `test-again-${digest}`,
      expected: digest,
      total: blob.length,
      open: () => {
        throw new Error('an existing blob must not be read again');
      },
    });
    expect(again.existed).toBe(true);
  });

  it('resumes an interrupted ingest from where containerd left off', async () => {
    const blob = Buffer.from('0123456789'.repeat(1000));
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const ref = `test-resume-${digest}`;
    await expect(
      client.content.write({
        ref,
        expected: digest,
        total: blob.length,
        open: function* () {
          yield blob.subarray(0, 4000);
          throw new Error('network went away');
        },
      }),
    ).rejects.toThrow('network went away');
    // What arrived before the source failed was acknowledged, so it is kept for the retry.
    const status = await client.content.status(ref);
    expect(status.offset).toBe(4000);

    const offsets: number[] = [];
    const result = await writeWhenUnlocked(() =>
      client.content.write({
        ref,
        expected: digest,
        total: blob.length,
        open: (offset) => {
          offsets.push(offset);
          return [blob.subarray(offset)];
        },
      }),
    );
    expect(offsets).toEqual([4000]);
    expect(result.existed).toBe(false);
    expect((await client.content.readAll(digest)).equals(blob)).toBe(true);
  });

  it('lists no images in a fresh namespace', async () => {
    expect(await client.images.list()).toEqual([]);
  });

  it('maps a missing container to NotFoundError', async () => {
    const missing = client.containers.get('no-such-container');
    await expect(missing).rejects.toBeInstanceOf(NotFoundError);
    await expect(missing).rejects.toThrow(/no-such-container/);
  });

  it('reports the overlayfs snapshotter through introspection', async () => {
    const plugins = await client.introspection.plugins(['type==io.containerd.snapshotter.v1']);
    expect(plugins.map((p) => p.id)).toContain('overlayfs');
  });

  it('maps a missing socket to UnavailableError naming the path', async () => {
    const socket = `${containerd.root}/nothing-here.sock`;
    const absent = ContainerdClient.connect({ socket, namespace: containerd.namespace });
    try {
      const call = absent.version();
      await expect(call).rejects.toBeInstanceOf(UnavailableError);
      await expect(call).rejects.toThrow(
        `containerd is not reachable at ${socket}: the socket does not exist. Is containerd running?`,
      );
    } finally {
      absent.close();
    }
  });
});

/** containerd may still hold the ref's lock for a moment after the first stream ended. */
async function writeWhenUnlocked<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (!(err instanceof UnavailableError) || attempt > 50) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

describe('tasks on a private containerd', () => {
  let containerd: PrivateContainerd;
  let client: ContainerdClient;
  let rootfs: string;

  beforeAll(async () => {
    containerd = await startContainerd();
    client = ContainerdClient.connect({
      socket: containerd.socket,
      namespace: containerd.namespace,
    });
    rootfs = await busyboxRootfs(containerd.root);
  });

  afterAll(async () => {
    client.close();
    await containerd.stop();
  });

  it('creates, starts, signals, waits for and deletes a task, with events', async () => {
    const id = 'sleeper';
    const events = new AbortController();
    const seen: string[] = [];
    const subscribed = (async () => {
      const filter = `namespace==${containerd.namespace}`;
      for await (const envelope of client.events.subscribe([filter], { signal: events.signal })) {
        const event = decodeEvent(envelope);
        if (event?.topic === '/tasks/exit') seen.push(`exit ${event.event.exitStatus}`);
        else if (event !== undefined) seen.push(event.topic);
        if (event?.topic === '/tasks/delete') return;
      }
    })();
    await createSleeper(client, containerd.namespace, id);
    const pid = await client.tasks.create({
      containerId: id,
      rootfs: [{ type: 'bind', source: rootfs, options: ['rbind', 'ro'] }],
    });
    expect(pid).toBeGreaterThan(0);
    expect(await client.tasks.start(id)).toBe(pid);
    expect((await client.tasks.get(id)).status).toBe(TaskStatus.RUNNING);
    expect((await client.tasks.list()).map((task) => task.id)).toEqual([id]);

    const exited = client.tasks.wait(id);
    // SIGKILL: a PID 1 without handlers ignores SIGTERM.
    await client.tasks.kill(id, 9);
    expect((await exited).exitStatus).toBe(128 + 9);
    const deleted = await client.tasks.delete(id);
    expect(deleted.exitStatus).toBe(128 + 9);
    await client.containers.delete(id);
    await subscribed;
    events.abort();
    expect(seen).toEqual([
      '/containers/create',
      '/tasks/create',
      '/tasks/start',
      'exit 137',
      '/tasks/delete',
    ]);
  });

  it('stop() kills what a test left running and removes its directory', async () => {
    const other = await startContainerd();
    const otherClient = ContainerdClient.connect({
      socket: other.socket,
      namespace: other.namespace,
    });
    try {
      const otherRootfs = await busyboxRootfs(other.root);
      await createSleeper(otherClient, other.namespace, 'left-behind');
      const pid = await otherClient.tasks.create({
        containerId: 'left-behind',
        rootfs: [{ type: 'bind', source: otherRootfs, options: ['rbind', 'ro'] }],
      });
      await otherClient.tasks.start('left-behind');
      expect(isAlive(pid)).toBe(true);
    } finally {
      otherClient.close();
      await other.stop();
    }
    expect(existsSync(other.root)).toBe(false);
    expect(await shimsFor(other.socket)).toEqual([]);
    // Our own containerd is untouched.
    expect((await client.version()).version).toMatch(/^v?1\.6\./);
  });
});

async function busyboxRootfs(dir: string): Promise<string> {
  const rootfs = join(dir, 'busybox-rootfs');
  for (const sub of ['bin', 'proc', 'dev', 'sys', 'etc', 'tmp']) {
    await mkdir(join(rootfs, sub), { recursive: true });
  }
  await copyFile('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  await chmod(join(rootfs, 'bin', 'busybox'), 0o755);
  return rootfs;
}

async function createSleeper(
  client: ContainerdClient,
  namespace: string,
  id: string,
): Promise<void> {
  const spec = buildSpec({
    id,
    namespace,
    hostname: id,
    image: { cmd: ['/bin/busybox', 'sleep', '600'] },
    environment: [],
    volumes: [],
  });
  // A read-only rootfs: runc must not try to create mount points in it.
  spec.root.readonly = true;
  // Raising RLIMIT_NOFILE past the current hard limit needs CAP_SYS_RESOURCE, which this machine
  // (itself a container) lacks: inherit the limits instead.
  spec.process.rlimits = [];
  await client.containers.create({
    id,
    labels: { 'budgie.test': 'yes' },
    runtime: { name: 'io.containerd.runc.v2' },
    spec: jsonAny(OCI_SPEC_TYPE_URL, spec),
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function shimsFor(socket: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    const cmdline = await readFile(join('/proc', entry, 'cmdline'), 'utf8').catch(() => '');
    if (cmdline.includes('containerd-shim') && cmdline.includes(socket)) found.push(entry);
  }
  return found;
}
