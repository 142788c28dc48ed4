import { InvalidInputError } from '../errors';
import {
  ImageCacheServiceService,
  type ImageCacheServiceServer,
} from '../gen/budgie/peer/v1/images';
import type { Logger } from '../log';
import { unary, type ServiceBinding } from '../rpc/handlers';
import { BLOB_DIGEST } from './blob-service';
import type { NodeIdentity } from '../trust/identity';
import { callerOf } from '../peer/auth';

/** This node's images as members see them; the agent's image store provides it. */
export interface ImageCache {
  /** Which of `digests` the content store holds whole. */
  hasBlobs(digests: readonly string[], signal: AbortSignal): Promise<string[]>;
  /** The descriptor the record `name` points at; NotFoundError when there is no such record. */
  target(
    name: string,
    signal: AbortSignal,
  ): Promise<{ mediaType: string; digest: string; size: number }>;
}

/** An image has a few dozen layers at most; this bounds the work one call can ask for. */
export const MAX_DIGESTS = 1024;

/**
 * budgie.peer.v1.ImageCacheService: members ask which blobs this node holds, and for its record of
 * an image name, before they go to a registry. Members only (the server's interceptor, and
 * `callerOf` as the second lock): a stranger learns nothing about what this node runs.
 */
export function imageCacheService(
  identity: () => NodeIdentity,
  cache: ImageCache,
  log: Logger,
): ServiceBinding {
  const implementation: ImageCacheServiceServer = {
    hasBlobs: unary(log, 'HasBlobs', async (req, signal, call) => {
      callerOf(call, identity().caCertPem);
      if (req.digests.length > MAX_DIGESTS) {
        throw new InvalidInputError(
          `digests: at most ${MAX_DIGESTS} per call, got ${req.digests.length}`,
        );
      }
      const bad = req.digests.findIndex((d) => !BLOB_DIGEST.test(d));
      if (bad >= 0) {
        throw new InvalidInputError(
          `digests[${bad}]: expected sha256:<64 hex>, got ${JSON.stringify(req.digests[bad])}`,
        );
      }
      return { present: await cache.hasBlobs(req.digests, signal) };
    }),
    lookupImage: unary(log, 'LookupImage', async (req, signal, call) => {
      callerOf(call, identity().caCertPem);
      if (req.name === '') throw new InvalidInputError('name: expected an image record name');
      const { mediaType, digest, size } = await cache.target(req.name, signal);
      return { mediaType, digest, size };
    }),
  };
  return { definition: ImageCacheServiceService, implementation };
}
