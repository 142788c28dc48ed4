import { Metadata } from '@grpc/grpc-js';
import { VolumeServiceClient, type SnapshotResponse } from '../gen/budgie/peer/v1/peer';
import { peerStream, type PeerChannel } from '../peer';

/** budgie.peer.v1.VolumeService of one member: snapshots of its rw volumes. */
export class VolumeClient {
  private readonly client: VolumeServiceClient;
  private readonly target: string;

  constructor(channel: PeerChannel) {
    this.client = channel.client(VolumeServiceClient);
    this.target = channel.target;
  }

  /** A snapshot of the member's rw volume at `target` of `app`; ends at its end or on abort. */
  snapshot(app: string, target: string, signal?: AbortSignal): AsyncGenerator<SnapshotResponse> {
    return peerStream(this.target, this.client.snapshot({ app, target }, new Metadata()), signal);
  }
}
