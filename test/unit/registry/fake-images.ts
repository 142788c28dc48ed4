import { MEDIA_TYPES, type Platform } from '../../../src/oci/image-codecs';
import { type FakeRegistry, digestOf } from './fake-registry';

export interface FakeImage {
  digest: string;
  manifest: Buffer;
  configDigest: string;
  layers: { digest: string; bytes: Buffer }[];
  platform: Platform;
}

/** Stores a single-platform image (config + layers + manifest) under repo[:tag]. */
export function addImage(
  registry: FakeRegistry,
  repo: string,
  tag: string | undefined,
  platform: Platform,
  layerTexts: string[] = ['layer one', 'layer two'],
  format: 'oci' | 'docker' = 'oci',
): FakeImage {
  const layers = layerTexts.map((text) => {
    const bytes = Buffer.from(text.repeat(1000));
    return { digest: registry.putBlob(bytes), bytes };
  });
  const config = Buffer.from(
    JSON.stringify({
      ...platform,
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      config: { Cmd: ['/bin/sh'] },
    }),
  );
  const configDigest = registry.putBlob(config);
  const mediaType = format === 'oci' ? MEDIA_TYPES.ociManifest : MEDIA_TYPES.dockerManifest;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: {
        mediaType: format === 'oci' ? MEDIA_TYPES.ociConfig : MEDIA_TYPES.dockerConfig,
        digest: configDigest,
        size: config.length,
      },
      layers: layers.map((l) => ({
        mediaType: MEDIA_TYPES.ociLayer,
        digest: l.digest,
        size: l.bytes.length,
      })),
    }),
  );
  const digest = registry.putManifest(repo, tag, mediaType, manifest);
  return { digest, manifest, configDigest, layers, platform };
}

/** Stores one image per platform and an index of them under repo:tag. */
export function addIndex(
  registry: FakeRegistry,
  repo: string,
  tag: string,
  platforms: Platform[],
  extraEntries: object[] = [],
): { digest: string; images: FakeImage[] } {
  const images = platforms.map((p) =>
    addImage(registry, repo, undefined, p, [`${p.architecture}${p.variant ?? ''} layer`]),
  );
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [
        ...images.map((image) => ({
          mediaType: MEDIA_TYPES.ociManifest,
          digest: image.digest,
          size: image.manifest.length,
          platform: image.platform,
        })),
        ...extraEntries,
      ],
    }),
  );
  return { digest: registry.putManifest(repo, tag, MEDIA_TYPES.ociIndex, index), images };
}

export { digestOf };
