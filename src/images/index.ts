/**
 * Images across the cluster: the peer services through which members read this node's blobs and
 * image records.
 */
export { blobService, type BlobReader } from './blob-service';
export { imageCacheService, type ImageCache } from './image-cache-service';
export { BlobClient } from './blob-client';
export { ImageCacheClient } from './image-cache-client';
