import { Metadata } from '@grpc/grpc-js';
import { SyncServiceClient, type ChangesResponse } from '../gen/budgie/peer/v1/sync';
import { PEER_STALL_MS, peerCall, peerStream, type PeerChannel } from '../peer';
import type { Signature } from './signature';
import {
  fromFetchFilesResponse,
  fromFetchResponse,
  fromWireRecord,
  toWireSignature,
} from './sync-wire';
import type { ChangesAnswer, ChangesQuery, FetchItem, SyncPeer, WholeFile } from './transfer';
import { MAX_CHANGES } from './volume-sync';

/** Time for an answer beyond the long poll's own wait. */
const ANSWER_MS = 10_000;

/** budgie.peer.v1.SyncService of one member, for one volume of one app. */
export class SyncClient implements SyncPeer {
  private readonly client: SyncServiceClient;
  private readonly channelTarget: string;

  constructor(
    channel: PeerChannel,
    readonly nodeId: string,
    private readonly app: string,
    private readonly target: string,
  ) {
    this.client = channel.client(SyncServiceClient);
    this.channelTarget = channel.target;
  }

  async changes(query: ChangesQuery, signal: AbortSignal): Promise<ChangesAnswer> {
    const res = await peerCall<ChangesResponse>(
      this.channelTarget,
      { signal, timeoutMs: query.waitMs + ANSWER_MS },
      (deadline, done) =>
        this.client.changes(
          { app: this.app, target: this.target, ...query },
          new Metadata(),
          { deadline },
          done,
        ),
    );
    if (res.records.length > MAX_CHANGES) {
      throw new Error(`sync: ${res.records.length} records in one answer`);
    }
    return {
      records: res.records.map(fromWireRecord),
      sequence: res.sequence,
      epoch: res.epoch.slice(0, 64),
      more: res.more,
    };
  }

  async *fetch(path: string, signature: Signature, signal: AbortSignal): AsyncGenerator<FetchItem> {
    const call = this.client.fetch(
      { app: this.app, target: this.target, path, ...toWireSignature(signature) },
      new Metadata(),
    );
    for await (const message of peerStream(this.channelTarget, call, signal, PEER_STALL_MS)) {
      yield fromFetchResponse(message);
    }
  }

  async *fetchFiles(paths: readonly string[], signal: AbortSignal): AsyncGenerator<WholeFile> {
    const call = this.client.fetchFiles(
      { app: this.app, target: this.target, paths: [...paths] },
      new Metadata(),
    );
    for await (const message of peerStream(this.channelTarget, call, signal, PEER_STALL_MS)) {
      yield fromFetchFilesResponse(message, paths.length);
    }
  }
}
