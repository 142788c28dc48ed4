import { Metadata } from '@grpc/grpc-js';
import {
  ImageCacheServiceClient,
  type HasBlobsResponse,
  type LookupImageResponse,
} from '../gen/budgie/peer/v1/images';
import { peerCall, type CallOptions, type PeerChannel } from '../peer';

/** budgie.peer.v1.ImageCacheService of one member: which blobs and image records it holds. */
export class ImageCacheClient {
  private readonly client: ImageCacheServiceClient;
  private readonly target: string;

  constructor(channel: PeerChannel) {
    this.client = channel.client(ImageCacheServiceClient);
    this.target = channel.target;
  }

  /** Which of `digests` the member's content store holds. */
  hasBlobs(digests: readonly string[], options: CallOptions = {}): Promise<HasBlobsResponse> {
    return peerCall(this.target, options, (deadline, done) =>
      this.client.hasBlobs({ digests: [...digests] }, new Metadata(), { deadline }, done),
    );
  }

  /** What the member's image record `name` points at; NotFoundError when it has none. */
  lookupImage(name: string, options: CallOptions = {}): Promise<LookupImageResponse> {
    return peerCall(this.target, options, (deadline, done) =>
      this.client.lookupImage({ name }, new Metadata(), { deadline }, done),
    );
  }
}
