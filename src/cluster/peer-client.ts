import { Metadata } from '@grpc/grpc-js';
import { MembershipServiceClient, type HelloResponse } from '../gen/budgie/peer/v1/peer';
import { grpcTarget, type HostPort } from './address';
import type { NodeIdentity } from './identity';
import { peerCall, type CallOptions } from './peer-call';
import { PEER_CHANNEL_OPTIONS, peerClientCredentials } from './tls';

/**
 * A member's connection to another member: mutual TLS with this node's certificate, the server
 * verified against the cluster CA and (when known) pinned to a node id, never to a hostname.
 */
export class PeerClient {
  readonly target: string;
  private readonly membership: MembershipServiceClient;

  constructor(identity: NodeIdentity, peer: HostPort, expectedNodeId?: string) {
    this.target = grpcTarget(peer);
    this.membership = new MembershipServiceClient(
      this.target,
      peerClientCredentials(identity, this.target, expectedNodeId),
      PEER_CHANNEL_OPTIONS,
    );
  }

  /** `address`: this node's own peer API (HOST:PORT), so the other end can heartbeat it back. */
  hello(options: CallOptions & { address?: string } = {}): Promise<HelloResponse> {
    const request = { address: options.address ?? '' };
    return peerCall(this.target, options, (deadline, done) =>
      this.membership.hello(request, new Metadata(), { deadline }, done),
    );
  }

  close(): void {
    this.membership.close();
  }
}
