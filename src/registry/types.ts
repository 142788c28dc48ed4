import type { Hash } from 'node:crypto';
import type { Descriptor, ImageConfig, Platform } from '../oci/image-codecs';
import type { ImageReference } from './reference';

/** A document read whole from a registry, with the digest it was verified against. */
export interface RegistryDocument {
  digest: string;
  mediaType: string;
  size: number;
  bytes: Buffer;
}

/** An image resolved for one platform: everything needed to download and unpack it. */
export interface ResolvedImage {
  reference: ImageReference;
  /**
   * The name for the image record: repository with its tag when the reference had one, else
   * with its digest (docker.io/library/nginx:alpine, 127.0.0.1:5000/app@sha256:…).
   */
  name: string;
  /** The multi-platform index the reference pointed at, when it pointed at one. */
  index?: RegistryDocument;
  indexDigest?: string;
  manifest: RegistryDocument;
  config: RegistryDocument;
  /** The decoded config (diff_ids for unpacking; entrypoint, env… for running). */
  imageConfig: ImageConfig;
  layers: Descriptor[];
  platform: Platform;
}

/** Where a blob's download starts; see RegistryClient.fetchBlob. */
export interface BlobFetchOptions {
  signal?: AbortSignal;
  /** Resume from this byte (a Range request; if the server ignores it, the prefix is skipped). */
  offset?: number;
  /**
   * The hash (node:crypto, of the digest's algorithm) fed with the first `offset` bytes, e.g.
   * `hash.copy()` kept by the writer. With it a resumed download still checks the whole digest.
   * Without it a resumed download checks only the size, and the caller must check the digest
   * (containerd's content Commit with the expected digest does exactly that).
   */
  prefixHash?: Hash;
}
