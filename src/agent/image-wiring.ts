import { BlobClient, ImageCacheClient, memberBlobPeers } from '../images';
import type { Logger } from '../log';
import type { ClusterNode } from '../membership';
import type { BlobPeers } from '../runtime/images';

/** The image store's view of the cluster: its alive members (none outside a cluster). */
export function clusterBlobPeers(cluster: ClusterNode, log: Logger): BlobPeers {
  return memberBlobPeers(
    () =>
      (cluster.nodes()?.rows ?? [])
        .filter((r) => !r.self && r.state === 'alive' && r.address !== '')
        .map((r) => {
          const channel = cluster.dial(r.address, r.nodeId);
          const blobs = new BlobClient(channel);
          const cache = new ImageCacheClient(channel);
          return {
            name: r.name || r.nodeId.slice(0, 12),
            client: {
              readBlob: blobs.readBlob.bind(blobs),
              hasBlobs: cache.hasBlobs.bind(cache),
              lookupImage: cache.lookupImage.bind(cache),
            },
          };
        }),
    log,
  );
}
