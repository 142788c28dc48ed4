/**
 * Images across the cluster, the node's image policy: an image crosses the internet once per
 * LAN. Pulls ask members first and spread layers over them (ClusterImageStore, layer-spread),
 * plans are made from any origin (a registry, an archive, a member), and the peer services and
 * clients through which members read this node's blobs and image records. The runtime's content
 * store (containerd's) does the storing.
 */
export { blobService, type BlobReader } from './blob-service';
export { imageCacheService, type ImageCache } from './image-cache-service';
export { BlobClient } from './blob-client';
export { ImageCacheClient } from './image-cache-client';
export { ClusterImageStore, type ClusterImageStoreOptions } from './cluster-image-store';
export { memberBlobPeers, type ImageMember } from './member-peers';
