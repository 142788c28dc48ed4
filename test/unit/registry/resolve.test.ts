import { InvalidInputError, NotFoundError } from '../../../src/errors';
import { MEDIA_TYPES } from '../../../src/oci/image-codecs';
import { RegistryClient, parseReference } from '../../../src/registry';
import { silentLogger } from '../../../src/log';
import { addImage, addIndex } from './fake-images';
import { FakeRegistry } from './fake-registry';

const AMD64 = { os: 'linux', architecture: 'amd64' };
const ARM64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };
const ARMV7 = { os: 'linux', architecture: 'arm', variant: 'v7' };

describe('RegistryClient.resolve', () => {
  let registry: FakeRegistry;
  let client: RegistryClient;

  beforeAll(async () => {
    registry = await FakeRegistry.start({ auth: 'bearer' });
    client = new RegistryClient({ logger: silentLogger() });
  });
  afterAll(async () => {
    client.close();
    await registry.stop();
  });

  it('resolves a single-platform image by tag', async () => {
    const image = addImage(registry, 'team/app', '1.0', AMD64);
    const resolved = await client.resolve(`${registry.host}/team/app:1.0`, { platform: AMD64 });
    expect(resolved.name).toBe(`${registry.host}/team/app:1.0`);
    expect(resolved.indexDigest).toBeUndefined();
    expect(resolved.manifest).toEqual({
      digest: image.digest,
      mediaType: MEDIA_TYPES.ociManifest,
      size: image.manifest.length,
      bytes: image.manifest,
    });
    expect(resolved.config.digest).toBe(image.configDigest);
    expect(resolved.imageConfig.config?.Cmd).toEqual(['/bin/sh']);
    expect(resolved.layers.map((l) => l.digest)).toEqual(image.layers.map((l) => l.digest));
    expect(resolved.platform).toEqual(AMD64);
  });

  it('resolves by digest, keeping the tag for the name', async () => {
    const image = addImage(registry, 'team/pinned', 'v', AMD64, ['x'], 'docker');
    const ref = `${registry.host}/team/pinned:v@${image.digest}`;
    const resolved = await client.resolve(ref, { platform: AMD64 });
    expect(resolved.name).toBe(`${registry.host}/team/pinned:v`);
    expect(resolved.manifest.mediaType).toBe(MEDIA_TYPES.dockerManifest);
    expect(registry.requests.at(-2)?.path).toBe(`/v2/team/pinned/manifests/${image.digest}`);
  });

  it('picks the platform from an index', async () => {
    const { digest, images } = addIndex(
      registry,
      'multi',
      'latest',
      [AMD64, ARM64, ARMV7],
      [
        {
          mediaType: MEDIA_TYPES.ociManifest,
          digest: `sha256:${'0'.repeat(64)}`,
          size: 1,
          platform: { os: 'unknown', architecture: 'unknown' },
        },
      ],
    );
    const arm = await client.resolve(`${registry.host}/multi`, {
      platform: { os: 'linux', architecture: 'arm64' },
    });
    expect(arm.indexDigest).toBe(digest);
    expect(arm.index?.digest).toBe(digest);
    expect(arm.manifest.digest).toBe(images[1]?.digest);
    expect(arm.platform).toEqual(ARM64);
    const amd = await client.resolve(parseReference(`${registry.host}/multi`), {
      platform: AMD64,
    });
    expect(amd.manifest.digest).toBe(images[0]?.digest);
  });

  it('lists the available platforms when none matches', async () => {
    addIndex(registry, 'armonly', 'latest', [ARM64, ARMV7]);
    await expect(client.resolve(`${registry.host}/armonly`, { platform: AMD64 })).rejects.toThrow(
      new NotFoundError(
        `image ${registry.host}/armonly:latest has no linux/amd64 variant (available: linux/arm64/v8, linux/arm/v7)`,
      ),
    );
  });

  it('refuses a single-platform image for another platform', async () => {
    addImage(registry, 'armsingle', 'latest', ARM64);
    await expect(client.resolve(`${registry.host}/armsingle`, { platform: AMD64 })).rejects.toThrow(
      `image ${registry.host}/armsingle:latest is for linux/arm64/v8, not linux/amd64`,
    );
  });

  it('says which image is not found', async () => {
    const attempt = client.resolve(`${registry.host}/x:y`, { platform: AMD64 });
    await expect(attempt).rejects.toThrow(NotFoundError);
    await expect(attempt).rejects.toThrow(`image ${registry.host}/x:y not found`);
  });

  it('fails when the manifest does not match the digest it was fetched by', async () => {
    const image = addImage(registry, 'tampered', 'latest', AMD64);
    const other = addImage(registry, 'other', 'latest', AMD64, ['something else']);
    registry.manifests.set(`tampered@${image.digest}`, {
      bytes: other.manifest,
      mediaType: MEDIA_TYPES.ociManifest,
    });
    await expect(
      client.resolve(`${registry.host}/tampered@${image.digest}`, { platform: AMD64 }),
    ).rejects.toThrow(`image ${registry.host}/tampered@${image.digest}: content does not match`);
  });

  it('rejects schema 1 manifests with a clear message', async () => {
    registry.putManifest(
      'old',
      'latest',
      'application/vnd.docker.distribution.manifest.v1+prettyjws',
      Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'old', tag: 'latest', fsLayers: [] })),
    );
    const attempt = client.resolve(`${registry.host}/old`, { platform: AMD64 });
    await expect(attempt).rejects.toThrow(InvalidInputError);
    await expect(attempt).rejects.toThrow("uses Docker's schema 1 manifest format");
  });

  it('rejects a manifest that is not a valid document', async () => {
    registry.putManifest(
      'broken',
      'latest',
      MEDIA_TYPES.ociManifest,
      Buffer.from(JSON.stringify({ schemaVersion: 2, config: 'nope', layers: [] })),
    );
    await expect(client.resolve(`${registry.host}/broken`, { platform: AMD64 })).rejects.toThrow(
      `image ${registry.host}/broken:latest: unexpected document (at config)`,
    );
  });

  it('rejects layer digests that could escape the blob path', async () => {
    const evil = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        config: { mediaType: MEDIA_TYPES.ociConfig, digest: 'sha256:../../x', size: 2 },
        layers: [],
      }),
    );
    registry.putManifest('evil', 'latest', MEDIA_TYPES.ociManifest, evil);
    await expect(client.resolve(`${registry.host}/evil`, { platform: AMD64 })).rejects.toThrow(
      'a sha256 digest is 64 lowercase hex digits',
    );
  });

  it('computes the digest and infers the kind when the registry says neither', async () => {
    const bare = await FakeRegistry.start({ digestHeader: false });
    try {
      const image = addImage(bare, 'plain', 'latest', AMD64);
      const doc = Buffer.from(image.manifest.toString().replace(/"mediaType":"[^"]*",/, ''));
      const digest = bare.putManifest('plain', 'latest', 'application/json', doc);
      const resolved = await client.resolve(`${bare.host}/plain`, { platform: AMD64 });
      expect(resolved.manifest.digest).toBe(digest);
      expect(resolved.manifest.mediaType).toBe(MEDIA_TYPES.ociManifest);
    } finally {
      await bare.stop();
    }
  });
});
