import { Metadata } from '@grpc/grpc-js';
import { VolumeServiceClient } from '../gen/budgie/peer/v1/peer';
import { peerStream, type PeerChannel } from '../peer';
import type { SnapshotItem } from './snapshot-types';
import { fromSnapshotResponse } from './snapshot-wire';

/** budgie.peer.v1.VolumeService of one member: snapshots of its rw volumes. */
export class VolumeClient {
  private readonly client: VolumeServiceClient;
  private readonly target: string;

  constructor(channel: PeerChannel) {
    this.client = channel.client(VolumeServiceClient);
    this.target = channel.target;
  }

  /** A snapshot of the member's rw volume at `target` of `app`; ends at its end or on abort. */
  async *snapshot(app: string, target: string, signal?: AbortSignal): AsyncGenerator<SnapshotItem> {
    const call = this.client.snapshot({ app, target }, new Metadata());
    for await (const message of peerStream(this.target, call, signal)) {
      const item = fromSnapshotResponse(message);
      if (item !== undefined) yield item;
    }
  }
}
