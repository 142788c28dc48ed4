import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { decodeJson, ImageConfig, Index, Manifest } from '../../../../src/oci/image-codecs';
import {
  buildImage,
  buildIndex,
  CREATED,
  type ImageSpec,
} from '../../../../src/tools/imagebuild/image';
import { TreeBuilder } from '../../../../src/tools/imagebuild/tree-builder';
import { readTar } from './read-tar';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const spec = (architecture = 'amd64'): ImageSpec => ({
  layers: [
    new TreeBuilder().file('/bin/app', 'binary', 0o755).build(),
    new TreeBuilder().file('/etc/app.conf', `arch=${architecture}\n`).build(),
  ],
  platform: { architecture, os: 'linux' },
  config: {
    Entrypoint: ['/bin/app'],
    Cmd: ['--serve'],
    Env: ['PATH=/bin'],
    WorkingDir: '/srv',
    ExposedPorts: ['9090/udp', '8080/tcp'],
    Labels: { 'z.last': '1', 'a.first': '2' },
  },
});

describe('image builder', () => {
  it('gives each layer a gzip digest and a diff_id of its uncompressed tar', () => {
    const image = buildImage(spec());
    expect(image.layers).toHaveLength(2);
    image.layers.forEach((layer, i) => {
      expect(layer.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
      expect(layer.digest).toBe(sha(layer.bytes));
      expect(layer.size).toBe(layer.bytes.length);
      const tar = gunzipSync(layer.bytes);
      expect(image.diffIds[i]).toBe(sha(tar));
      expect(image.layerTars[i]!.bytes).toEqual(tar);
    });
    expect(readTar(gunzipSync(image.layers[0]!.bytes)).map((e) => e.path)).toEqual([
      'bin/',
      'bin/app',
    ]);
  });

  it('writes a manifest and config the OCI codecs accept, with the runtime settings', () => {
    const image = buildImage(spec());
    const manifest = decodeJson(Manifest, image.manifest.bytes, 'manifest');
    expect(manifest).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha(image.config.bytes),
        size: image.config.bytes.length,
      },
      layers: image.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    });
    expect(image.manifest.digest).toBe(sha(image.manifest.bytes));
    const config = decodeJson(ImageConfig, image.config.bytes, 'config');
    expect(config).toEqual({
      created: CREATED,
      architecture: 'amd64',
      os: 'linux',
      config: {
        ExposedPorts: { '8080/tcp': {}, '9090/udp': {} },
        Env: ['PATH=/bin'],
        Entrypoint: ['/bin/app'],
        Cmd: ['--serve'],
        WorkingDir: '/srv',
        Labels: { 'a.first': '2', 'z.last': '1' },
      },
      rootfs: { type: 'layers', diff_ids: image.diffIds },
      history: [expect.any(Object), expect.any(Object)],
    });
    expect(CREATED).toBe('2024-01-01T00:00:00Z');
  });

  it('is reproducible: the same spec gives the same bytes', () => {
    const a = buildImage(spec());
    const b = buildImage(spec());
    expect(b.blobs.map((x) => x.bytes)).toEqual(a.blobs.map((x) => x.bytes));
    expect(b.manifest.digest).toBe(a.manifest.digest);
  });

  it('indexes platform variants, each its own manifest, sharing identical layers', () => {
    const amd = buildImage(spec('amd64'));
    const arm = buildImage({
      ...spec('arm64'),
      platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
    });
    const index = buildIndex([amd, arm]);
    const doc = decodeJson(Index, index.root.bytes, 'index');
    expect(doc.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(doc.manifests).toEqual([
      expect.objectContaining({
        digest: amd.manifest.digest,
        platform: { architecture: 'amd64', os: 'linux' },
      }),
      expect.objectContaining({
        digest: arm.manifest.digest,
        platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
      }),
    ]);
    expect(amd.manifest.digest).not.toBe(arm.manifest.digest);
    expect(amd.layers[0]!.digest).toBe(arm.layers[0]!.digest);
    expect(index.blobs[0]).toBe(index.root);
    expect(index.blobs).toHaveLength(1 + amd.blobs.length + arm.blobs.length);
  });
});
