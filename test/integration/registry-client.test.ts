import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { NotFoundError } from '../../src/errors';
import { silentLogger } from '../../src/log';
import type { Descriptor } from '../../src/oci/image-codecs';
import { RegistryClient, hostPlatform, type ResolvedImage } from '../../src/registry';
import { type LocalRegistry, pushImage, startRegistry } from '../support/registry';
import { MULTI_PLATFORMS, type TestImages, testImages } from '../support/images';

/** Resolve and download against Debian's docker-registry, with images pushed by skopeo. */
describe('RegistryClient against docker-registry', () => {
  let registry: LocalRegistry;
  let images: TestImages;
  let client: RegistryClient;
  const repo = `regtest-${process.pid}`;

  beforeAll(async () => {
    [registry, images] = await Promise.all([startRegistry(), testImages()]);
    await pushImage(images.busyboxLayoutDir, registry.host, `${repo}/single:1`);
    await pushImage(images.multiPlatformLayoutDir, registry.host, `${repo}/multi:1`);
    client = new RegistryClient({ logger: silentLogger() });
  });

  afterAll(async () => {
    client.close();
    await registry.stop();
  });

  async function sha256Of(stream: Readable): Promise<{ digest: string; size: number }> {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of stream) {
      const bytes = Buffer.from(chunk as Uint8Array);
      hash.update(bytes);
      size += bytes.length;
    }
    return { digest: `sha256:${hash.digest('hex')}`, size };
  }

  /** Downloads config and layers concurrently and checks each independently of the client. */
  async function downloadAll(resolved: ResolvedImage): Promise<void> {
    const blobs: Descriptor[] = [
      {
        mediaType: resolved.config.mediaType,
        digest: resolved.config.digest,
        size: resolved.config.size,
      },
      ...resolved.layers,
    ];
    const got = await Promise.all(
      blobs.map(async (d) => sha256Of(await client.fetchBlob(resolved.name, d))),
    );
    expect(got).toEqual(blobs.map((d) => ({ digest: d.digest, size: d.size })));
  }

  it('resolves a single-platform image and downloads its blobs', async () => {
    const resolved = await client.resolve(`${registry.host}/${repo}/single:1`);
    expect(resolved.name).toBe(`${registry.host}/${repo}/single:1`);
    expect(resolved.indexDigest).toBeUndefined();
    expect(resolved.manifest.digest).toBe(images.busyboxManifestDigest);
    expect(resolved.platform).toMatchObject(hostPlatform());
    expect(resolved.layers.length).toBeGreaterThan(0);
    await downloadAll(resolved);
  });

  it.each(MULTI_PLATFORMS.map((p) => [`${p.os}/${p.architecture}`, p] as const))(
    'resolves the %s entry of a multi-platform image and downloads its blobs',
    async (_name, platform) => {
      const resolved = await client.resolve(`${registry.host}/${repo}/multi:1`, { platform });
      expect(resolved.indexDigest).toBe(images.multiPlatformIndexDigest);
      expect(resolved.platform).toMatchObject(platform);
      expect(resolved.imageConfig.architecture).toBe(platform.architecture);
      await downloadAll(resolved);
    },
  );

  it('resolves an index by digest', async () => {
    const ref = `${registry.host}/${repo}/multi@${images.multiPlatformIndexDigest}`;
    const resolved = await client.resolve(ref, { platform: MULTI_PLATFORMS[0] });
    expect(resolved.name).toBe(ref);
    expect(resolved.index?.digest).toBe(images.multiPlatformIndexDigest);
  });

  it('lists the platforms an index has when the wanted one is missing', async () => {
    await expect(
      client.resolve(`${registry.host}/${repo}/multi:1`, {
        platform: { os: 'linux', architecture: 's390x' },
      }),
    ).rejects.toThrow('has no linux/s390x variant (available: linux/amd64, linux/arm64)');
  });

  it('resumes a layer download from an offset', async () => {
    const resolved = await client.resolve(`${registry.host}/${repo}/single:1`);
    const layer = resolved.layers[0]!;
    const whole = await client.fetchBlob(resolved.name, layer);
    const chunks: Buffer[] = [];
    for await (const chunk of whole) chunks.push(Buffer.from(chunk as Uint8Array));
    const bytes = Buffer.concat(chunks);
    const offset = Math.floor(layer.size / 2);
    const prefixHash = createHash('sha256').update(bytes.subarray(0, offset));
    const rest = await client.fetchBlob(resolved.name, layer, { offset, prefixHash });
    const restChunks: Buffer[] = [];
    for await (const chunk of rest) restChunks.push(Buffer.from(chunk as Uint8Array));
    expect(Buffer.concat(restChunks).equals(bytes.subarray(offset))).toBe(true);
  });

  it('says which image is not found', async () => {
    const attempt = client.resolve(`${registry.host}/${repo}/nope:1`);
    await expect(attempt).rejects.toThrow(NotFoundError);
    await expect(attempt).rejects.toThrow(`image ${registry.host}/${repo}/nope:1 not found`);
  });
});
