import { Channel, type ChannelCredentials, type ClientOptions } from '@grpc/grpc-js';
import { formatHostPort, type HostPort } from '../host-port';
import type { NodeIdentity } from '../trust/identity';
import { PEER_CHANNEL_OPTIONS, peerClientCredentials } from '../trust/tls';

/** A generated grpc-js service client's constructor. */
export type ServiceClientConstructor<C> = new (
  address: string,
  credentials: ChannelCredentials,
  options: ClientOptions,
) => C;

/**
 * A member's connection to another member: one HTTP/2 connection with mutual TLS (this node's
 * certificate; the server verified against the cluster CA and, when known, pinned to a node id,
 * never to a hostname). Every service's client rides on it, so a member pays one handshake
 * whatever it calls.
 */
export class PeerChannel {
  readonly target: string;
  private readonly credentials: ChannelCredentials;
  private readonly channel: Channel;

  constructor(identity: NodeIdentity, peer: HostPort, expectedNodeId?: string) {
    this.target = formatHostPort(peer);
    this.credentials = peerClientCredentials(identity, this.target, expectedNodeId);
    this.channel = new Channel(this.target, this.credentials, PEER_CHANNEL_OPTIONS);
  }

  /** A generated service client on this channel; closing the channel closes it too. */
  client<C>(Client: ServiceClientConstructor<C>): C {
    return new Client(this.target, this.credentials, {
      ...PEER_CHANNEL_OPTIONS,
      channelOverride: this.channel,
    });
  }

  close(): void {
    this.channel.close();
  }
}
