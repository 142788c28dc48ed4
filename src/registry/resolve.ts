import { InvalidInputError, NotFoundError } from '../errors';
import {
  decodeJson,
  type Descriptor,
  ImageConfig,
  type Manifest,
  type Platform,
} from '../oci/image-codecs';
import type { ManifestDocument } from './manifest-document';
import { choosePlatform, formatPlatform, listPlatforms, platformMatches } from './platform';
import { parseReference, type ImageReference } from './reference';
import type { RegistryDocument, ResolvedImage } from './types';

export type FetchedManifest = RegistryDocument & { document: ManifestDocument };

/** The registry reads resolving needs; RegistryClient provides them, tests may fake them. */
export interface ManifestSource {
  /** A manifest or index by tag or digest; verified against the digest when it has one. */
  manifest(
    ref: ImageReference,
    target: string,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<FetchedManifest>;
  /** A small blob read whole, verified against its descriptor. */
  blob(
    ref: ImageReference,
    descriptor: Descriptor,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<Buffer>;
}

/**
 * Reference → manifest for `platform` → config, as containerd's resolver and
 * images.Manifest do: an index is narrowed to one platform; a single manifest must be for it.
 */
export async function resolveImage(
  source: ManifestSource,
  reference: ImageReference,
  platform: Platform,
  signal: AbortSignal | undefined,
): Promise<ResolvedImage> {
  const image = `image ${reference.toString()}`;
  const top = await source.manifest(reference, reference.target, image, signal);
  let index: RegistryDocument | undefined;
  let manifestDoc = top;
  let chosen: Platform | undefined;
  if (top.document.kind === 'index') {
    const entry = choosePlatform(platform, top.document.index.manifests);
    if (entry === undefined) {
      const available = listPlatforms(top.document.index.manifests).join(', ') || 'none';
      throw new NotFoundError(
        `${image} has no ${formatPlatform(platform)} variant (available: ${available})`,
      );
    }
    index = withoutDocument(top);
    chosen = entry.platform;
    const what = `manifest ${entry.digest} of ${image}`;
    manifestDoc = await source.manifest(reference, entry.digest, what, signal);
    if (manifestDoc.size !== entry.size) {
      throw new InvalidInputError(
        `${what}: ${manifestDoc.size} bytes, the index says ${entry.size}`,
      );
    }
  }
  if (manifestDoc.document.kind !== 'manifest') {
    throw new InvalidInputError(`${image}: an index inside an index is not supported`);
  }
  const manifest: Manifest = manifestDoc.document.manifest;
  const configWhat = `config ${manifest.config.digest} of ${image}`;
  const configBytes = await source.blob(reference, manifest.config, configWhat, signal);
  const imageConfig = decodeJson(ImageConfig, configBytes, configWhat);
  if (imageConfig.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new InvalidInputError(
      `${image}: the manifest has ${manifest.layers.length} layers but the config lists ${imageConfig.rootfs.diff_ids.length}`,
    );
  }
  const fromConfig = configPlatform(imageConfig);
  if (chosen === undefined && fromConfig !== undefined && !platformMatches(platform, fromConfig)) {
    throw new NotFoundError(
      `${image} is for ${formatPlatform(fromConfig)}, not ${formatPlatform(platform)}`,
    );
  }
  return {
    reference,
    name: imageRecordName(reference),
    ...(index === undefined ? {} : { index, indexDigest: index.digest }),
    manifest: withoutDocument(manifestDoc),
    config: {
      digest: manifest.config.digest,
      mediaType: manifest.config.mediaType,
      size: configBytes.length,
      bytes: configBytes,
    },
    imageConfig,
    layers: manifest.layers,
    platform: chosen ?? fromConfig ?? platform,
  };
}

function withoutDocument(fetched: FetchedManifest): RegistryDocument {
  const { digest, mediaType, size, bytes } = fetched;
  return { digest, mediaType, size, bytes };
}

function configPlatform(config: ImageConfig): Platform | undefined {
  if (config.os === undefined || config.architecture === undefined) return undefined;
  return {
    os: config.os,
    architecture: config.architecture,
    ...(config.variant === undefined ? {} : { variant: config.variant }),
  };
}

/** The image record's name for a reference, as a pull stores it (see ResolvedImage.name). */
export function imageRecordName(ref: ImageReference): string {
  if (ref.tag !== undefined) return `${ref.repository}:${ref.tag}`;
  return ref.toString();
}

/** Names as `docker`/`ctr` store them: busybox:1 → docker.io/library/busybox:1, tag latest by default. */
export function canonicalName(reference: string): string {
  const ref = parseReference(reference);
  return ref.tag === undefined && ref.digest === undefined
    ? `${ref.toString()}:latest`
    : ref.toString();
}
