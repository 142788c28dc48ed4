import type * as t from 'io-ts';
import { NotFoundError } from '../errors';
import {
  decodeJson,
  ImageConfig,
  Index,
  isIndexType,
  Manifest,
  type Descriptor,
  type Platform,
} from '../oci/image-codecs';
import { chainIds } from '../oci/chain-id';
import { choosePlatform, formatPlatform, hostPlatform, listPlatforms } from '../registry';
import type { Image } from './api';
import type { ContainerdClient } from './client';
import type { CallOpts } from './connection';
import { timestampMs } from './wellknown';

/** Manifests, indexes and configs are small; containerd caps manifests at 4 MiB. */
const DOCUMENT_LIMIT = 16 << 20;

/** An image record read back from containerd, resolved to this host's platform. */
export interface StoredImage {
  name: string;
  /** What the record points at: a manifest or an index. */
  target: Descriptor;
  manifestDigest: string;
  manifest: Manifest;
  configDigest: string;
  config: ImageConfig;
  /** Chain ID of the top layer: the snapshot a container's rootfs is prepared from. */
  chainId: string;
  platform: Platform;
  /** Bytes of the target, manifest, config and layers as stored (compressed). */
  size: number;
  createdMs: number;
  labels: Record<string, string>;
}

/** Reads a small JSON document from the content store and decodes it. */
export async function readDocument<A>(
  client: ContainerdClient,
  codec: t.Type<A, unknown>,
  digest: string,
  what: string,
  opts?: CallOpts,
): Promise<A> {
  const bytes = await client.content.readAll(digest, { ...opts, maxBytes: DOCUMENT_LIMIT });
  return decodeJson(codec, bytes, `${what} ${digest}`);
}

/**
 * Follows a record to the manifest for `platform` (the host's by default), its config and its
 * chain ID. NotFoundError when the record, or a blob it needs, is missing.
 */
export async function resolveStoredImage(
  client: ContainerdClient,
  record: Image,
  platform: Platform = hostPlatform(),
  opts?: CallOpts,
): Promise<StoredImage> {
  const target = record.target;
  if (target === undefined) throw new NotFoundError(`image ${record.name} has no target`);
  let manifestDesc: Descriptor = target;
  let size = 0;
  if (isIndexType(target.mediaType)) {
    const index = await readDocument(client, Index, target.digest, 'index', opts);
    const chosen = choosePlatform(platform, index.manifests);
    if (chosen === undefined) {
      throw new NotFoundError(
        `image ${record.name} has no ${formatPlatform(platform)} variant (it has ${listPlatforms(index.manifests).join(', ') || 'none'})`,
      );
    }
    manifestDesc = chosen;
    size += target.size;
  }
  const manifest = await readDocument(client, Manifest, manifestDesc.digest, 'manifest', opts);
  const config = await readDocument(client, ImageConfig, manifest.config.digest, 'config', opts);
  const chain = chainIds(config.rootfs.diff_ids);
  const chainId = chain[chain.length - 1];
  if (chainId === undefined) throw new NotFoundError(`image ${record.name} has no layers`);
  size += manifestDesc.size + manifest.config.size;
  for (const layer of manifest.layers) size += layer.size;
  return {
    name: record.name,
    target: { mediaType: target.mediaType, digest: target.digest, size: target.size },
    manifestDigest: manifestDesc.digest,
    manifest,
    configDigest: manifest.config.digest,
    config,
    chainId,
    platform: manifestDesc.platform ?? {
      os: config.os ?? platform.os,
      architecture: config.architecture ?? platform.architecture,
      ...(config.variant === undefined ? {} : { variant: config.variant }),
    },
    size,
    createdMs: timestampMs(record.createdAt),
    labels: record.labels,
  };
}

/** The record called `name`, resolved; see resolveStoredImage. */
export async function loadStoredImage(
  client: ContainerdClient,
  name: string,
  opts?: CallOpts,
): Promise<StoredImage> {
  return resolveStoredImage(client, await client.images.get(name, opts), hostPlatform(), opts);
}
