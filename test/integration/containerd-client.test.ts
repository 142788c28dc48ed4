import { createHash } from 'node:crypto';
import { ContainerdClient } from '../../src/containerd/client';
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
