import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { NotFoundError, UnavailableError } from '../../../src/errors';
import { silentLogger } from '../../../src/log';
import { DigestMismatchError, RegistryClient } from '../../../src/registry';
import { FakeRegistry, type FakeRegistryOptions } from './fake-registry';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Buffer.equals: jest's toEqual walks big buffers byte by byte, which takes seconds. */
function expectBytes(actual: Buffer, expected: Buffer): void {
  expect(actual.length).toBe(expected.length);
  expect(actual.equals(expected)).toBe(true);
}

const BLOB = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));

describe('RegistryClient.fetchBlob', () => {
  const registries: FakeRegistry[] = [];
  const client = new RegistryClient({ logger: silentLogger() });

  async function start(options: FakeRegistryOptions = {}) {
    const registry = await FakeRegistry.start({ auth: 'bearer', ...options });
    registries.push(registry);
    const digest = registry.putBlob(BLOB);
    const descriptor = { digest, size: BLOB.length };
    return { registry, descriptor, name: `${registry.host}/team/app` };
  }

  afterAll(async () => {
    client.close();
    await Promise.all(registries.map((r) => r.stop()));
  });

  it('streams a blob and checks it', async () => {
    const { name, descriptor } = await start();
    expectBytes(await readAll(await client.fetchBlob(name, descriptor)), BLOB);
  });

  it('fails with DigestMismatchError naming a corrupted blob', async () => {
    const { registry, name, descriptor } = await start();
    registry.corrupt.add(descriptor.digest);
    const stream = await client.fetchBlob(name, descriptor);
    const attempt = readAll(stream);
    await expect(attempt).rejects.toThrow(DigestMismatchError);
    await expect(attempt).rejects.toThrow(
      `blob ${descriptor.digest} of ${registry.host}/team/app: content does not match its digest`,
    );
  });

  it('fails when the blob is longer than its descriptor says', async () => {
    const { name, descriptor } = await start();
    const stream = await client.fetchBlob(name, { ...descriptor, size: 1000 });
    await expect(readAll(stream)).rejects.toThrow('more than the 1000 bytes its descriptor gives');
  });

  it('fails as retryable when the connection ends early', async () => {
    const { registry, name, descriptor } = await start();
    registry.truncate.set(descriptor.digest, 100_000);
    const attempt = readAll(await client.fetchBlob(name, descriptor));
    await expect(attempt).rejects.toThrow(UnavailableError);
    await expect(attempt).rejects.toThrow(`blob ${descriptor.digest} of ${registry.host}/team/app`);
  });

  it('follows redirects to storage without sending the registry token there', async () => {
    const { registry, name, descriptor } = await start({ redirectBlobs: true });
    expectBytes(await readAll(await client.fetchBlob(name, descriptor)), BLOB);
    const storage = registry.requests.filter((r) => r.path.startsWith('/storage/'));
    expect(storage).toHaveLength(1);
    expect(storage[0]?.host).toBe(`localhost:${registry.port}`);
    expect(storage[0]?.authorization).toBeUndefined();
    const api = registry.requests.filter((r) => r.path.includes('/blobs/'));
    expect(api.at(-1)?.authorization).toMatch(/^Bearer tok-/);
  });

  it('resumes with a Range request and the prefix hash, still checking the digest', async () => {
    const { registry, name, descriptor } = await start();
    const offset = 123_456;
    const prefixHash = createHash('sha256').update(BLOB.subarray(0, offset));
    const stream = await client.fetchBlob(name, descriptor, { offset, prefixHash });
    expectBytes(await readAll(stream), BLOB.subarray(offset));
    expect(registry.requests.at(-1)?.range).toBe(`bytes=${offset}-`);
  });

  it('detects a wrong prefix on resume', async () => {
    const { name, descriptor } = await start();
    const prefixHash = createHash('sha256').update(Buffer.alloc(10));
    const stream = await client.fetchBlob(name, descriptor, { offset: 10, prefixHash });
    await expect(readAll(stream)).rejects.toThrow(DigestMismatchError);
  });

  it('resumes without a prefix hash by checking the size only', async () => {
    const { name, descriptor } = await start();
    const stream = await client.fetchBlob(name, descriptor, { offset: 10 });
    expectBytes(await readAll(stream), BLOB.subarray(10));
  });

  it('skips the prefix itself (and checks the whole digest) when Range is ignored', async () => {
    const { registry, name, descriptor } = await start({ rangeSupport: false });
    registry.corrupt.add(descriptor.digest);
    const bad = await client.fetchBlob(name, descriptor, { offset: 1000 });
    await expect(readAll(bad)).rejects.toThrow(DigestMismatchError);
    registry.corrupt.delete(descriptor.digest);
    const good = await client.fetchBlob(name, descriptor, { offset: 1000 });
    expectBytes(await readAll(good), BLOB.subarray(1000));
  });

  it('returns an empty checked stream when resuming at the end', async () => {
    const { name, descriptor } = await start();
    const prefixHash = createHash('sha256').update(BLOB);
    const stream = await client.fetchBlob(name, descriptor, { offset: BLOB.length, prefixHash });
    expect(await readAll(stream)).toHaveLength(0);
  });

  it('refuses an offset past the end', async () => {
    const { name, descriptor } = await start();
    await expect(client.fetchBlob(name, descriptor, { offset: BLOB.length + 1 })).rejects.toThrow(
      `cannot resume at byte ${BLOB.length + 1}`,
    );
  });

  it('says which blob is missing', async () => {
    const { registry, name } = await start();
    const digest = `sha256:${'1'.repeat(64)}`;
    const attempt = client.fetchBlob(name, { digest, size: 1 });
    await expect(attempt).rejects.toThrow(NotFoundError);
    await expect(attempt).rejects.toThrow(`blob ${digest} of ${registry.host}/team/app not found`);
  });

  it('downloads several blobs at once', async () => {
    const { registry, name } = await start();
    const blobs = Array.from({ length: 6 }, (_, i) => Buffer.alloc(200_000 + i, i));
    const descriptors = blobs.map((b) => ({ digest: registry.putBlob(b), size: b.length }));
    const got = await Promise.all(
      descriptors.map(async (d) => readAll(await client.fetchBlob(name, d))),
    );
    got.forEach((bytes, i) => {
      expectBytes(bytes, blobs[i]!);
    });
  });

  it('stops when the signal aborts mid-stream', async () => {
    const { registry, name, descriptor } = await start();
    registry.truncate.set(descriptor.digest, 50_000);
    const controller = new AbortController();
    const stream = await client.fetchBlob(name, descriptor, { signal: controller.signal });
    controller.abort(new Error('user gave up'));
    await expect(readAll(stream)).rejects.toThrow('user gave up');
  });

  it('does not start when the signal is already aborted', async () => {
    const { name, descriptor } = await start();
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    await expect(client.fetchBlob(name, descriptor, { signal: controller.signal })).rejects.toThrow(
      'too late',
    );
  });
});
