import { Metadata } from '@grpc/grpc-js';
import { streamOf } from '../rpc/calls';
import {
  BlobServiceClient,
  MembershipServiceClient,
  type GetAppResponse,
  ReplicaServiceClient,
  type HelloResponse,
  type JoinRequest,
  type JoinResponse,
  type ListReplicasResponse,
  type LogsRequest,
  type LogsResponse,
  type SnapshotResponse,
  type StopResponse,
  VolumeServiceClient,
} from '../gen/budgie/peer/v1/peer';
import {
  ImageCacheServiceClient,
  type HasBlobsResponse,
  type LookupImageResponse,
} from '../gen/budgie/peer/v1/images';
import { formatHostPort, type HostPort } from '../host-port';
import type { NodeIdentity } from '../trust/identity';
import { mapPeerError, peerCall, type CallOptions } from './call';
import { PEER_CHANNEL_OPTIONS, peerClientCredentials } from '../trust/tls';

/**
 * A member's connection to another member: mutual TLS with this node's certificate, the server
 * verified against the cluster CA and (when known) pinned to a node id, never to a hostname.
 */
export class PeerClient {
  readonly target: string;
  private readonly membership: MembershipServiceClient;
  private readonly replicas: ReplicaServiceClient;
  private readonly blobs: BlobServiceClient;
  private readonly volumes: VolumeServiceClient;
  private readonly imageCache: ImageCacheServiceClient;

  constructor(identity: NodeIdentity, peer: HostPort, expectedNodeId?: string) {
    this.target = formatHostPort(peer);
    const credentials = peerClientCredentials(identity, this.target, expectedNodeId);
    this.membership = new MembershipServiceClient(this.target, credentials, PEER_CHANNEL_OPTIONS);
    // One TLS connection per peer, whatever the service.
    this.replicas = new ReplicaServiceClient(this.target, credentials, {
      ...PEER_CHANNEL_OPTIONS,
      channelOverride: this.membership.getChannel(),
    });
    this.blobs = new BlobServiceClient(this.target, credentials, {
      ...PEER_CHANNEL_OPTIONS,
      channelOverride: this.membership.getChannel(),
    });
    this.volumes = new VolumeServiceClient(this.target, credentials, {
      ...PEER_CHANNEL_OPTIONS,
      channelOverride: this.membership.getChannel(),
    });
    this.imageCache = new ImageCacheServiceClient(this.target, credentials, {
      ...PEER_CHANNEL_OPTIONS,
      channelOverride: this.membership.getChannel(),
    });
  }

  /** `address`: this node's own peer API (HOST:PORT), so the other end can heartbeat it back. */
  hello(options: CallOptions & { address?: string } = {}): Promise<HelloResponse> {
    const request = { address: options.address ?? '' };
    return peerCall(this.target, options, (deadline, done) =>
      this.membership.hello(request, new Metadata(), { deadline }, done),
    );
  }

  /** Hands a join this node received to the member, which signs it if it holds the CA key. */
  admit(request: JoinRequest, options: CallOptions = {}): Promise<JoinResponse> {
    return peerCall(this.target, options, (deadline, done) =>
      this.membership.admit(request, new Metadata(), { deadline }, done),
    );
  }

  /** Tells the member this node leaves the cluster: it stops trusting this node's certificate. */
  leave(options: CallOptions = {}): Promise<void> {
    return peerCall(this.target, options, (deadline, done) =>
      this.membership.leave({}, new Metadata(), { deadline }, done),
    ).then(() => undefined);
  }

  /** The member's replicas (with `all`, stopped ones too). */
  listReplicas(options: CallOptions & { all?: boolean } = {}): Promise<ListReplicasResponse> {
    const request = { all: options.all ?? false };
    return peerCall(this.target, options, (deadline, done) =>
      this.replicas.listReplicas(request, new Metadata(), { deadline }, done),
    );
  }

  /** The member's logs of a replica or app; ends when it ends, or when `signal` aborts. */
  logs(request: LogsRequest, signal?: AbortSignal): AsyncGenerator<LogsResponse> {
    const call = this.replicas.logs(request, new Metadata());
    signal?.addEventListener(
      'abort',
      () => {
        call.cancel();
      },
      { once: true },
    );
    return streamOf((err) => mapPeerError(this.target, err), call);
  }

  /** The app a target (app name, replica ID or prefix) names on the member, with its image. */
  getApp(target: string, options: CallOptions = {}): Promise<GetAppResponse> {
    return peerCall(this.target, options, (deadline, done) =>
      this.replicas.getApp({ target }, new Metadata(), { deadline }, done),
    );
  }

  /** Stops an app (name) or one replica (ID or prefix) on the member. */
  stop(target: string, options: CallOptions = {}): Promise<StopResponse> {
    return peerCall(this.target, options, (deadline, done) =>
      this.replicas.stop({ target }, new Metadata(), { deadline }, done),
    );
  }

  /** Which of `digests` the member's content store holds. */
  hasBlobs(digests: readonly string[], options: CallOptions = {}): Promise<HasBlobsResponse> {
    return peerCall(this.target, options, (deadline, done) =>
      this.imageCache.hasBlobs({ digests: [...digests] }, new Metadata(), { deadline }, done),
    );
  }

  /** What the member's image record `name` points at; NotFoundError when it has none. */
  lookupImage(name: string, options: CallOptions = {}): Promise<LookupImageResponse> {
    return peerCall(this.target, options, (deadline, done) =>
      this.imageCache.lookupImage({ name }, new Metadata(), { deadline }, done),
    );
  }

  /**
   * A blob of the member's content store from `offset`; ends at the blob's end, or when `signal`
   * aborts. No deadline: a layer takes as long as the link needs, and the caller can cancel.
   */
  async *readBlob(digest: string, offset: number, signal?: AbortSignal): AsyncGenerator<Buffer> {
    const call = this.blobs.read({ digest, offset }, new Metadata());
    const onAbort = (): void => {
      call.cancel();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const res of streamOf((err) => mapPeerError(this.target, err), call)) {
        yield res.data;
      }
    } finally {
      // streamOf cancels the call itself when its reader stops early.
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * A snapshot of the member's rw volume at `target` of `app`. No deadline, like readBlob: a
   * volume takes as long as the link needs, and the caller can cancel.
   */
  async *snapshotVolume(
    app: string,
    target: string,
    signal?: AbortSignal,
  ): AsyncGenerator<SnapshotResponse> {
    const call = this.volumes.snapshot({ app, target }, new Metadata());
    const onAbort = (): void => {
      call.cancel();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      yield* streamOf((err) => mapPeerError(this.target, err), call);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  close(): void {
    // The replica client rides on the membership client's channel: closing that closes both.
    this.membership.close();
  }
}
