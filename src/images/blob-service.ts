import { BlobServiceService, type BlobServiceServer } from '../gen/budgie/peer/v1/peer';
import { InvalidInputError } from '../errors';
import type { Logger } from '../log';
import { serverStream, type ServiceBinding } from '../rpc/handlers';
import type { NodeIdentity } from '../trust/identity';
import { callerOf } from '../peer/auth';

/** A stored blob's bytes from `offset`; NotFoundError when this node does not hold it. */
export type BlobReader = (
  digest: string,
  offset: number,
  signal: AbortSignal,
) => AsyncIterable<Uint8Array>;

/** Only digests that containerd and the receiver can check; nothing else reaches the store. */
export const BLOB_DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * budgie.peer.v1.BlobService: members read blobs of this node's content store, so that images
 * cross the LAN rather than the internet. Members only (the server's interceptor, and
 * `callerOf` as the second lock); the receiver verifies what it gets against the digest.
 */
export function blobService(
  identity: () => NodeIdentity,
  read: BlobReader,
  log: Logger,
): ServiceBinding {
  const implementation: BlobServiceServer = {
    read: serverStream(log, 'Read', async (req, send, signal, call) => {
      callerOf(call, identity().caCertPem);
      if (!BLOB_DIGEST.test(req.digest)) {
        throw new InvalidInputError(
          `digest: expected sha256:<64 hex>, got ${JSON.stringify(req.digest)}`,
        );
      }
      if (!Number.isSafeInteger(req.offset) || req.offset < 0) {
        throw new InvalidInputError(`offset: expected a byte offset, got ${req.offset}`);
      }
      for await (const data of read(req.digest, req.offset, signal)) {
        if (signal.aborted) return;
        await send({ data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) });
      }
    }),
  };
  return { definition: BlobServiceService, implementation };
}
