import { Metadata } from '@grpc/grpc-js';
import { BlobServiceClient } from '../gen/budgie/peer/v1/peer';
import { PEER_STALL_MS, peerStream, type PeerChannel } from '../peer';

/** budgie.peer.v1.BlobService of one member: the bytes of its content store's blobs. */
export class BlobClient {
  private readonly client: BlobServiceClient;
  private readonly target: string;

  constructor(channel: PeerChannel) {
    this.client = channel.client(BlobServiceClient);
    this.target = channel.target;
  }

  /** A blob from `offset`; ends at the blob's end, or when `signal` aborts. */
  async *readBlob(digest: string, offset: number, signal?: AbortSignal): AsyncGenerator<Buffer> {
    const call = this.client.read({ digest, offset }, new Metadata());
    for await (const res of peerStream(this.target, call, signal, PEER_STALL_MS)) yield res.data;
  }
}
