import { gzipSync } from 'node:zlib';
import { MEDIA_TYPES, type Platform } from '../../oci/image-codecs';
import { descriptorOf, jsonBlob, makeBlob, type Artifact, type Blob } from './blob';
import { FIXED_MTIME, tarBytes, type TarEntry } from './tar-writer';

/** The runtime part of an image config, in the image-spec's own field names. */
export interface ContainerConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  /** "8080/tcp"; written as the spec's map of empty objects. */
  ExposedPorts?: string[];
  Labels?: Record<string, string>;
}

export interface ImageSpec {
  /** Bottom layer first; each is the entries of one tar. */
  layers: readonly (readonly TarEntry[])[];
  config: ContainerConfig;
  platform: Platform;
}

export interface BuiltImage extends Artifact {
  manifest: Blob;
  config: Blob;
  /** Gzip-compressed, as pushed and stored in layouts. */
  layers: Blob[];
  /** The uncompressed tars, for docker save archives; their digests are the diff_ids. */
  layerTars: Blob[];
  diffIds: string[];
  platform: Platform;
}

/** Matches FIXED_MTIME, so config and files agree on when the image was "built". */
export const CREATED = new Date(FIXED_MTIME * 1000).toISOString().replace('.000Z', 'Z');

/** Builds every blob of a single-platform OCI image. Same spec, same bytes. */
export function buildImage(spec: ImageSpec): BuiltImage {
  const layerTars = spec.layers.map((entries) => makeBlob(MEDIA_TYPES.ociLayer, tarBytes(entries)));
  const diffIds = layerTars.map((tar) => tar.digest);
  const layers = layerTars.map((tar) => makeBlob(MEDIA_TYPES.ociLayerGzip, gzipSync(tar.bytes)));
  const config = jsonBlob(MEDIA_TYPES.ociConfig, {
    created: CREATED,
    architecture: spec.platform.architecture,
    os: spec.platform.os,
    ...(spec.platform.variant === undefined ? {} : { variant: spec.platform.variant }),
    config: runtimeConfig(spec.config),
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: layers.map((_, i) => ({
      created: CREATED,
      created_by: `budgie imagebuild layer ${i}`,
    })),
  });
  const manifest = jsonBlob(MEDIA_TYPES.ociManifest, {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: descriptorOf(config),
    layers: layers.map((l) => descriptorOf(l)),
  });
  return {
    root: manifest,
    manifest,
    config,
    layers,
    layerTars,
    diffIds,
    platform: spec.platform,
    blobs: [manifest, config, ...layers],
  };
}

/** A multi-platform image: an index of single-platform manifests, each tagged with its platform. */
export function buildIndex(images: readonly BuiltImage[]): Artifact {
  const index = jsonBlob(MEDIA_TYPES.ociIndex, {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: images.map((image) => descriptorOf(image.manifest, { platform: image.platform })),
  });
  return { root: index, blobs: [index, ...images.flatMap((image) => image.blobs)] };
}

function runtimeConfig(c: ContainerConfig): Record<string, unknown> {
  // Fixed key order: the config's digest must not depend on how the caller built the object.
  const out: Record<string, unknown> = {};
  if (c.User !== undefined) out.User = c.User;
  if (c.ExposedPorts !== undefined) {
    out.ExposedPorts = Object.fromEntries([...c.ExposedPorts].sort().map((p) => [p, {}]));
  }
  if (c.Env !== undefined) out.Env = c.Env;
  if (c.Entrypoint !== undefined) out.Entrypoint = c.Entrypoint;
  if (c.Cmd !== undefined) out.Cmd = c.Cmd;
  if (c.WorkingDir !== undefined) out.WorkingDir = c.WorkingDir;
  if (c.Labels !== undefined) {
    out.Labels = Object.fromEntries(Object.entries(c.Labels).sort(([a], [b]) => (a < b ? -1 : 1)));
  }
  return out;
}
