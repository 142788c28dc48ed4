import { formatHostPort, parseHostPort, type HostPort } from '../host-port';
import { PeerEvents } from './peer-events';
import type { PeerListener, PeerSource, PeerSourceEvents, StaticPeer } from './types';

/**
 * Peers given by address (`--peer HOST:PORT`, config) for networks where multicast is blocked.
 * A PeerSource like mDNS: `found` for each on start; never `lost`, since only dialling can tell.
 */
export class StaticPeers implements PeerSource<StaticPeer> {
  private readonly events = new PeerEvents<StaticPeer>();
  private readonly list: StaticPeer[];
  private started = false;

  constructor(addresses: readonly HostPort[]) {
    const byKey = new Map<string, StaticPeer>();
    for (const address of addresses) {
      const key = formatHostPort(address);
      byKey.set(key, { source: 'static', key, addresses: [address.host], port: address.port });
    }
    this.list = [...byKey.values()];
  }

  /** Parses every argument first, so one bad `--peer` fails with its own message. */
  static parse(args: readonly string[], what = '--peer', defaultPort?: number): StaticPeers {
    return new StaticPeers(args.map((arg) => parseHostPort(arg, what, defaultPort)));
  }

  on<E extends keyof PeerSourceEvents<StaticPeer>>(
    event: E,
    listener: PeerListener<StaticPeer, E>,
  ): this {
    this.events.on(event, listener);
    return this;
  }

  off<E extends keyof PeerSourceEvents<StaticPeer>>(
    event: E,
    listener: PeerListener<StaticPeer, E>,
  ): this {
    this.events.off(event, listener);
    return this;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const peer of this.list) this.events.emit('found', peer);
  }

  peers(): StaticPeer[] {
    return [...this.list];
  }

  close(): Promise<void> {
    this.events.clear();
    return Promise.resolve();
  }
}
