import { NotFoundError } from '../errors';
import {
  decodeJson,
  ImageConfig,
  Index,
  isIndexType,
  Manifest,
  type Descriptor,
} from '../oci/image-codecs';
import { choosePlatform, formatPlatform, hostPlatform, listPlatforms } from '../registry';
import type { BlobSource, Document, IngestPlan } from '../runtime/images';

/**
 * Where an image's blobs come from when its documents are read by digest (an archive, a cluster
 * member), as opposed to a registry, which resolves a reference first.
 */
export interface BlobOrigin {
  /** For messages: "the archive", "member node-a". */
  what: string;
  /** A small document (index, manifest, config) whole, already checked against its digest. */
  read(descriptor: Descriptor): Promise<Buffer>;
  /**
   * Whether the origin holds a blob, for origins that can tell without asking (an archive). An
   * archive often carries only some platforms of an index: the platform is chosen among those.
   */
  has?: (digest: string) => boolean;
  /** The layers' bytes, streamed and resumable. */
  source: BlobSource;
}

/**
 * The ingest plan for image `name` whose record points at `target`: for an index, this host's
 * platform's manifest; then that manifest's config and layers.
 */
export async function planFromOrigin(
  origin: BlobOrigin,
  name: string,
  target: Descriptor,
): Promise<IngestPlan> {
  const read = async (d: Descriptor): Promise<Document> => ({
    descriptor: { mediaType: d.mediaType, digest: d.digest, size: d.size },
    bytes: await origin.read(d),
  });
  const has = origin.has;
  let index: IngestPlan['index'];
  let manifestDesc = target;
  if (isIndexType(target.mediaType)) {
    const document = await read(target);
    const decoded = decodeJson(Index, document.bytes, `${name}: index ${target.digest}`);
    const platform = hostPlatform();
    const present =
      has === undefined ? decoded.manifests : decoded.manifests.filter((m) => has(m.digest));
    const chosen = choosePlatform(platform, present) ?? singleUntagged(present);
    if (chosen === undefined) {
      throw new NotFoundError(
        `${name}: ${origin.what} has no ${formatPlatform(platform)} image (it has ${listPlatforms(present).join(', ') || 'none'})`,
      );
    }
    index = { document, manifestPosition: decoded.manifests.indexOf(chosen) };
    manifestDesc = chosen;
  }
  const manifest = await read(manifestDesc);
  const decoded = decodeJson(Manifest, manifest.bytes, `${name}: manifest ${manifestDesc.digest}`);
  const config = await read(decoded.config);
  const imageConfig = decodeJson(ImageConfig, config.bytes, `${name}: config`);
  if (has !== undefined) {
    for (const layer of decoded.layers) {
      if (!has(layer.digest)) {
        throw new NotFoundError(`${name}: layer ${layer.digest} is missing from ${origin.what}`);
      }
    }
  }
  return {
    name,
    ...(index === undefined ? {} : { index }),
    manifest,
    config,
    imageConfig,
    layers: decoded.layers,
    source: origin.source,
  };
}

/** An index with one manifest and no platform fields (umoci's layouts) means that one. */
function singleUntagged(manifests: readonly Descriptor[]): Descriptor | undefined {
  const [only, ...rest] = manifests;
  return only !== undefined && rest.length === 0 && only.platform === undefined ? only : undefined;
}
