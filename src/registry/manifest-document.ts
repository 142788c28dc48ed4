import { InvalidInputError } from '../errors';
import { decodeJson, Index, Manifest, MEDIA_TYPES, isIndexType } from '../oci/image-codecs';

/** What a manifests endpoint returned: an image manifest, or an index of them per platform. */
export type ManifestDocument =
  | { kind: 'manifest'; mediaType: string; manifest: Manifest }
  | { kind: 'index'; mediaType: string; index: Index };

/** What we ask the manifests endpoint for, best first. */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest,
].join(', ');

const SCHEMA1_TYPES = new Set([
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
]);

/**
 * Decodes a manifest or index from untrusted bytes. The kind comes from the document's own
 * mediaType, else the Content-Type, else its shape (old OCI documents may carry neither).
 */
export function decodeManifestDocument(
  bytes: Buffer,
  contentType: string | undefined,
  what: string,
): ManifestDocument {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new InvalidInputError(`${what}: not valid JSON`);
  }
  const fields = typeof json === 'object' && json !== null ? json : {};
  const header = contentType?.split(';')[0]?.trim();
  if (
    ('schemaVersion' in fields && fields.schemaVersion === 1) ||
    (header !== undefined && SCHEMA1_TYPES.has(header))
  ) {
    throw new InvalidInputError(
      `${what} uses Docker's schema 1 manifest format, which is not supported; push it again with a current Docker or skopeo`,
    );
  }
  const declared =
    'mediaType' in fields && typeof fields.mediaType === 'string' ? fields.mediaType : undefined;
  const knownHeader = header !== undefined && KNOWN.has(header) ? header : undefined;
  const inferred = 'manifests' in fields ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest;
  const mediaType = declared ?? knownHeader ?? inferred;
  if (isIndexType(mediaType)) {
    return { kind: 'index', mediaType, index: decodeJson(Index, bytes, what) };
  }
  if (mediaType !== MEDIA_TYPES.ociManifest && mediaType !== MEDIA_TYPES.dockerManifest) {
    throw new InvalidInputError(`${what} has media type ${mediaType}, which is not an image`);
  }
  return { kind: 'manifest', mediaType, manifest: decodeJson(Manifest, bytes, what) };
}

const KNOWN = new Set<string>([
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest,
]);
