import { messageOf } from '../errors';
import type { Logger } from '../log';
import { systemClock, type Clock } from './clock';
import { SERVICE_TYPE } from './names';
import { parseResponse, type SeenAdvert } from './parse-response';
import { PeerEvents } from './peer-events';
import type { MdnsTransport } from './transport';
import type { MdnsPeer, PeerListener, PeerSource, PeerSourceEvents } from './types';

export interface BrowserOptions {
  /** This node's id: its own advert, looped back by the socket, is not a peer. */
  selfNodeId?: string;
  log: Logger;
  clock?: Clock;
  /** Re-query on a backoff after the first query (default); false for one-shot use. */
  continuous?: boolean;
  /** The gap after the first query; doubled after each one up to `maxQueryIntervalMs`. */
  firstQueryIntervalMs?: number;
  maxQueryIntervalMs?: number;
}

/** RFC 6762 §5.2: re-query a record at 80, 85, 90 and 95% of its TTL; drop it at 100%. */
const REFRESH_POINTS = [0.8, 0.85, 0.9, 0.95, 1];

interface Entry {
  peer: MdnsPeer;
  instance: string;
  seenAt: number;
  ttlMs: number;
  cancelTimer: () => void;
}

/**
 * Browses `_budgie._tcp` continuously and keeps a cache of the peers that answer: `found` for a
 * new node, `updated` when its advert changes, `lost` on its goodbye or when its records expire
 * unrefreshed (a killed node sends no goodbye). Bad adverts are logged at debug and ignored.
 */
export class MdnsBrowser implements PeerSource<MdnsPeer> {
  private readonly events = new PeerEvents<MdnsPeer>();
  /** By node id. */
  private readonly entries = new Map<string, Entry>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private unsubscribe: (() => void) | undefined;
  private cancelQuery: (() => void) | undefined;
  private lastQueryAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly transport: MdnsTransport,
    private readonly options: BrowserOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.log = options.log;
  }

  on<E extends keyof PeerSourceEvents<MdnsPeer>>(
    event: E,
    listener: PeerListener<MdnsPeer, E>,
  ): this {
    this.events.on(event, listener);
    return this;
  }

  off<E extends keyof PeerSourceEvents<MdnsPeer>>(
    event: E,
    listener: PeerListener<MdnsPeer, E>,
  ): this {
    this.events.off(event, listener);
    return this;
  }

  start(): void {
    if (this.unsubscribe !== undefined) return;
    this.unsubscribe = this.transport.onResponse((records, from) => {
      const parsed = parseResponse(records, from);
      for (const problem of parsed.problems) this.log.debug('mDNS advert ignored', { problem });
      for (const instance of parsed.goodbyes) this.goodbye(instance);
      for (const seen of parsed.adverts) this.seen(seen);
    });
    if (this.options.continuous === false) this.query();
    else this.queryEvery(this.options.firstQueryIntervalMs ?? 1000);
  }

  peers(): MdnsPeer[] {
    return [...this.entries.values()].map((e) => e.peer);
  }

  /** Asks every advertiser on the link to answer now. */
  query(): void {
    this.lastQueryAt = this.clock.now();
    this.transport.query([{ name: SERVICE_TYPE, type: 'PTR' }]).catch((err: unknown) => {
      this.log.debug('mDNS query not sent', { error: messageOf(err) });
    });
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.cancelQuery?.();
    for (const entry of this.entries.values()) entry.cancelTimer();
    this.entries.clear();
    this.events.clear();
    return Promise.resolve();
  }

  /** Continuous querying (RFC 6762 §5.2) catches nodes whose announcements were lost. */
  private queryEvery(intervalMs: number): void {
    this.query();
    const next = Math.min(intervalMs * 2, this.options.maxQueryIntervalMs ?? 60_000);
    this.cancelQuery = this.clock.schedule(() => {
      this.queryEvery(next);
    }, intervalMs);
  }

  private seen(seen: SeenAdvert): void {
    const { advert } = seen;
    if (advert.nodeId === this.options.selfNodeId) return;
    const peer: MdnsPeer = {
      source: 'mdns',
      key: advert.nodeId,
      ...advert,
      addresses: seen.addresses,
      port: seen.port,
    };
    const previous = this.entries.get(advert.nodeId);
    previous?.cancelTimer();
    const entry: Entry = {
      peer,
      instance: seen.instance,
      seenAt: this.clock.now(),
      ttlMs: seen.ttl * 1000,
      cancelTimer: () => undefined,
    };
    this.entries.set(advert.nodeId, entry);
    this.arm(entry, 0);
    if (previous === undefined) this.events.emit('found', peer);
    else if (changed(previous.peer, peer)) this.events.emit('updated', peer, previous.peer);
  }

  private goodbye(instance: string): void {
    for (const entry of this.entries.values()) {
      if (entry.instance.toLowerCase() === instance.toLowerCase()) this.drop(entry);
    }
  }

  private drop(entry: Entry): void {
    entry.cancelTimer();
    this.entries.delete(entry.peer.nodeId);
    this.events.emit('lost', entry.peer);
  }

  /** Schedules the entry's next refresh query, or its expiry after the last one. */
  private arm(entry: Entry, point: number): void {
    const fraction = REFRESH_POINTS[point] ?? 1;
    const delay = Math.max(0, entry.seenAt + entry.ttlMs * fraction - this.clock.now());
    entry.cancelTimer = this.clock.schedule(() => {
      if (fraction >= 1) {
        this.drop(entry);
        return;
      }
      // One PTR query refreshes every peer, so peers seen together share one query.
      if (this.clock.now() - this.lastQueryAt >= entry.ttlMs * 0.04) this.query();
      this.arm(entry, point + 1);
    }, delay);
  }
}

function changed(a: MdnsPeer, b: MdnsPeer): boolean {
  return (
    a.clusterId !== b.clusterId ||
    a.name !== b.name ||
    a.version !== b.version ||
    a.port !== b.port ||
    a.addresses.join(',') !== b.addresses.join(',')
  );
}
