import type { Descriptor, ImageConfig } from '../oci/image-codecs';
/**
 * The image side of the runtime interface, in Budgie's own terms. The agent's API and the
 * orchestrator use only this; src/containerd implements it on containerd's content store,
 * snapshotter and image records, and tests use an in-memory fake.
 */
export interface ImageSummary {
  /** Normalised name, e.g. docker.io/library/nginx:alpine. */
  name: string;
  /** Digest of the manifest (or index) the name points at. */
  digest: string;
  /** Bytes of the manifest, config and layers as stored (compressed). */
  size: number;
  /** os/architecture[/variant] of the unpacked manifest. */
  platform: string;
  createdMs: number;
}

export type LayerState = 'waiting' | 'downloading' | 'exists' | 'downloaded' | 'unpacked';

export type ImageEvent =
  | { type: 'phase'; text: string }
  | { type: 'layer'; digest: string; size: number; done: number; state: LayerState };

export interface ImageOperation {
  signal: AbortSignal;
  /** Progress; called often while bytes move, so it must be cheap. */
  onEvent(event: ImageEvent): void;
}

/** What an image record points at: a manifest or an index, by digest. */
export interface ImageTarget {
  name: string;
  mediaType: string;
  digest: string;
  size: number;
}

/**
 * Blobs by digest from somewhere other than a registry (a cluster member's content store). The
 * store verifies every byte against its digest, so a provider needs no trust.
 */
export interface BlobProvider {
  /** The blob's bytes from `offset` to its end. */
  open(digest: string, offset: number, signal: AbortSignal): AsyncIterable<Uint8Array>;
}

/** A cluster member that holds some of an image's blobs, for pulls that ask the LAN first. */
export interface BlobHolder {
  /** The member's node name, for progress and messages. */
  name: string;
  /** Which of the digests asked about it holds. */
  has: ReadonlySet<string>;
  provider: BlobProvider;
}

/** A member's image record of an exact name, for when the registry cannot be reached. */
export interface PeerImageRecord {
  target: ImageTarget;
  /** The member's node name. */
  from: string;
  provider: BlobProvider;
}

/**
 * The members an image store asks before a registry, so that each image crosses the internet
 * once per LAN. Neither call fails a pull: a member that does not answer in time is left out.
 */
export interface BlobPeers {
  /** The alive members that hold any of `digests`, each with which ones. */
  holders(digests: readonly string[], signal: AbortSignal): Promise<BlobHolder[]>;
  /** A member's record stored under exactly `name`; undefined when no member has one. */
  lookup(name: string, signal: AbortSignal): Promise<PeerImageRecord | undefined>;
}

/** Where the bytes of a blob come from (a registry, an archive, a member). */
export type BlobSource = (
  descriptor: Descriptor,
  offset: number,
  signal: AbortSignal,
) => Promise<AsyncIterable<Uint8Array>>;

/** A small document (index, manifest, config) already in memory and verified. */
export interface Document {
  descriptor: Descriptor;
  bytes: Buffer;
}

/** Everything needed to store one image for one platform. */
export interface IngestPlan {
  /** Name of the image record. */
  name: string;
  /** The multi-platform index the name points at, if any, and where the manifest sits in it. */
  index?: { document: Document; manifestPosition: number };
  manifest: Document;
  config: Document;
  imageConfig: ImageConfig;
  layers: readonly Descriptor[];
  source: BlobSource;
}

/**
 * What the runtime stores images in (containerd's content store, snapshotter and image records):
 * it stores what a plan says and answers what is here. Where the bytes come from, and in what
 * order of preference, is the images room's policy (src/images).
 */
export interface ImageContent {
  /** Stores the plan's image: blobs missing here from its source, unpacked, then its record. */
  ingest(plan: IngestPlan, op: ImageOperation): Promise<void>;
  /** The summary of the stored image `name`. */
  summary(name: string, signal: AbortSignal): Promise<ImageSummary>;
  /** Which of `digests` the content store holds whole. */
  hasBlobs(digests: readonly string[], signal: AbortSignal): Promise<string[]>;
  list(): Promise<ImageSummary[]>;
  /** The stored name `reference` refers to (busybox → docker.io/library/busybox:latest), if any. */
  find(reference: string, signal?: AbortSignal): Promise<string | undefined>;
  remove(reference: string): Promise<void>;
  /** What the stored image `name` points at; NotFoundError when it is not on this node. */
  target(name: string, signal?: AbortSignal): Promise<ImageTarget>;
  /** A stored blob's bytes from `offset` (for members that fetch images from this node). */
  readBlob(digest: string, offset: number, signal: AbortSignal): AsyncIterable<Uint8Array>;
}

export interface ImageStore {
  /**
   * Resolves, downloads what is missing (from members that hold it first, in a cluster) and
   * unpacks for the default snapshotter.
   */
  pull(reference: string, op: ImageOperation): Promise<ImageSummary>;
  /** Imports every image of an OCI layout tar or a `docker save` tar at `archivePath`. */
  importArchive(archivePath: string, op: ImageOperation): Promise<ImageSummary[]>;
  list(): Promise<ImageSummary[]>;
  /** The stored name `reference` refers to (busybox → docker.io/library/busybox:latest), if any. */
  find(reference: string, signal?: AbortSignal): Promise<string | undefined>;
  remove(reference: string): Promise<void>;
  /** What the stored image `name` points at; NotFoundError when it is not on this node. */
  target(name: string, signal?: AbortSignal): Promise<ImageTarget>;
  /** A stored blob's bytes from `offset` (for members that fetch images from this node). */
  readBlob(digest: string, offset: number, signal: AbortSignal): AsyncIterable<Uint8Array>;
  /**
   * Stores `image` under its name with blobs from `provider` (skipping those already here,
   * spreading layers over the members that hold them, verifying everything against its digest)
   * and unpacks it, as `pull` does from a registry.
   */
  fetch(image: ImageTarget, provider: BlobProvider, op: ImageOperation): Promise<ImageSummary>;
}
