import { Metadata } from '@grpc/grpc-js';
import {
  MembershipServiceClient,
  type HelloResponse,
  type JoinRequest,
  type JoinResponse,
} from '../gen/budgie/peer/v1/peer';
import { peerCall, type CallOptions, type PeerChannel } from '../peer';
import type { LeaveProof } from '../trust';

/** budgie.peer.v1.MembershipService of one member: heartbeats, forwarded joins, leaving. */
export class MembershipClient {
  private readonly client: MembershipServiceClient;
  private readonly target: string;

  constructor(channel: PeerChannel) {
    this.client = channel.client(MembershipServiceClient);
    this.target = channel.target;
  }

  /** `address`: this node's own peer API (HOST:PORT), so the other end can heartbeat it back. */
  hello(options: CallOptions & { address?: string } = {}): Promise<HelloResponse> {
    const request = { address: options.address ?? '' };
    return peerCall(this.target, options, (deadline, done) =>
      this.client.hello(request, new Metadata(), { deadline }, done),
    );
  }

  /** Hands a join this node received to the member, which signs it if it holds the CA key. */
  admit(request: JoinRequest, options: CallOptions = {}): Promise<JoinResponse> {
    return peerCall(this.target, options, (deadline, done) =>
      this.client.admit(request, new Metadata(), { deadline }, done),
    );
  }

  /**
   * Tells the member this node leaves the cluster, with this node's signed word for it (which
   * the member passes on): it stops trusting this node's certificate.
   */
  async leave(proof: LeaveProof, options: CallOptions = {}): Promise<void> {
    await peerCall(this.target, options, (deadline, done) =>
      this.client.leave({ proof }, new Metadata(), { deadline }, done),
    );
  }
}
