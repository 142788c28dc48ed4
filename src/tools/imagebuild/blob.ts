import { createHash } from 'node:crypto';
import type { Descriptor, Platform } from '../../oci/image-codecs';

/** Content-addressed bytes with the media type they are referenced by. */
export interface Blob {
  mediaType: string;
  digest: string;
  size: number;
  bytes: Buffer;
}

/**
 * Something a layout or a registry can name: a manifest or an index (`root`), and every blob
 * reachable from it, root included.
 */
export interface Artifact {
  root: Blob;
  platform?: Platform;
  blobs: readonly Blob[];
}

export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function makeBlob(mediaType: string, bytes: Buffer): Blob {
  return { mediaType, digest: sha256Digest(bytes), size: bytes.length, bytes };
}

/** JSON documents are serialised once, here, so their digests never depend on the caller. */
export function jsonBlob(mediaType: string, document: unknown): Blob {
  return makeBlob(mediaType, Buffer.from(JSON.stringify(document), 'utf8'));
}

export function descriptorOf(
  blob: Blob,
  extra: { platform?: Platform; annotations?: Record<string, string> } = {},
): Descriptor {
  return { mediaType: blob.mediaType, digest: blob.digest, size: blob.size, ...extra };
}

/** "sha256:abc…" → "abc…", for file names in layouts and docker save archives. */
export function digestHex(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1);
}
