/**
 * What a node says about itself in its mDNS advert. Unauthenticated hints: anyone on the LAN can
 * send an advert, so membership verifies identity over mTLS before trusting any of it.
 */
export interface Advert {
  /** The node's id (a hash of its public key): lowercase letters and digits. */
  nodeId: string;
  /** A hash naming the node's cluster (not a secret); undefined when the node is in no cluster. */
  clusterId: string | undefined;
  /** The node's human name (`--node-name`), for listings only. */
  name: string;
  /** The peer protocol version the node speaks. */
  version: number;
}

/** A node found by mDNS, with where to dial its peer port. */
export interface MdnsPeer extends Advert {
  source: 'mdns';
  /** Unique within the source: the node id. */
  key: string;
  /** Addresses to dial, most likely reachable first (the one the advert came from). */
  addresses: readonly string[];
  port: number;
}

/** A peer given by address (`--peer HOST:PORT`); who it is is learned only when it is dialled. */
export interface StaticPeer {
  source: 'static';
  /** Unique within the source: `host:port` (IPv6 hosts in brackets). */
  key: string;
  /** The host as given: an IP address or a DNS name, resolved by the dialler. */
  addresses: readonly string[];
  port: number;
}

export type Peer = MdnsPeer | StaticPeer;

export interface PeerSourceEvents<P> {
  found: [peer: P];
  updated: [peer: P, previous: P];
  lost: [peer: P];
}

export type PeerListener<P, E extends keyof PeerSourceEvents<P>> = (
  ...args: PeerSourceEvents<P>[E]
) => void;

/**
 * Where membership learns of peers to dial: mDNS and a static list look alike, so membership code
 * treats them the same. Events fire from `start()` on; `peers()` is what is known now.
 */
export interface PeerSource<P extends Peer = Peer> {
  start(): void;
  peers(): P[];
  on<E extends keyof PeerSourceEvents<P>>(event: E, listener: PeerListener<P, E>): this;
  off<E extends keyof PeerSourceEvents<P>>(event: E, listener: PeerListener<P, E>): this;
  /** Stops the source; no events after this resolves. */
  close(): Promise<void>;
}
