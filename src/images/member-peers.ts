import type { BlobClient } from './blob-client';
import type { ImageCacheClient } from './image-cache-client';
import { BLOB_DIGEST } from './blob-service';
import { messageOf } from '../errors';
import type { Logger } from '../log';
import type { BlobHolder, BlobPeers, BlobProvider, PeerImageRecord } from '../runtime/images';

/** A pull waits this long for members' answers; one that is slower is not asked this time. */
const ASK_TIMEOUT_MS = 1000;

/** A member to ask, and the part of its peer client that image sharing uses. */
export interface ImageMember {
  name: string;
  client: Pick<BlobClient, 'readBlob'> & Pick<ImageCacheClient, 'hasBlobs' | 'lookupImage'>;
}

/**
 * Every member is asked, in parallel and within ASK_TIMEOUT_MS, which blobs it holds or what its
 * record of a name is. A member that fails or is slow is left out, never fails the pull.
 */
export function memberBlobPeers(members: () => readonly ImageMember[], log: Logger): BlobPeers {
  const provider = (m: ImageMember): BlobProvider => ({
    open: (digest, offset, signal) => m.client.readBlob(digest, offset, signal),
  });
  const quiet =
    (what: string, member: ImageMember) =>
    (err: unknown): undefined => {
      log.debug(`member did not answer ${what}`, { peer: member.name, error: messageOf(err) });
      return undefined;
    };
  return {
    holders: async (digests, signal) => {
      const asked = new Set(digests);
      const answers = await Promise.all(
        members().map((m) =>
          m.client.hasBlobs(digests, { signal, timeoutMs: ASK_TIMEOUT_MS }).then(
            (res): BlobHolder => ({
              name: m.name,
              has: new Set(res.present.filter((d) => asked.has(d))),
              provider: provider(m),
            }),
            quiet('HasBlobs', m),
          ),
        ),
      );
      return answers.filter((h): h is BlobHolder => h !== undefined && h.has.size > 0);
    },
    lookup: async (name, signal) => {
      const answers = await Promise.all(
        members().map((m) =>
          m.client.lookupImage(name, { signal, timeoutMs: ASK_TIMEOUT_MS }).then(
            (res): PeerImageRecord | undefined => {
              // Checked at the edge: the descriptor steers what is read next.
              if (!BLOB_DIGEST.test(res.digest) || res.mediaType === '' || !(res.size > 0)) {
                log.warn('member sent an invalid image record', { peer: m.name, image: name });
                return undefined;
              }
              const target = { name, mediaType: res.mediaType, digest: res.digest, size: res.size };
              return { target, from: m.name, provider: provider(m) };
            },
            quiet('LookupImage', m),
          ),
        ),
      );
      return answers.find((a) => a !== undefined);
    },
  };
}
