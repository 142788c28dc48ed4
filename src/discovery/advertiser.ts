import { messageOf } from '../errors';
import type { Logger } from '../log';
import { answerQuery } from './answer-query';
import { systemClock, type Clock } from './clock';
import { advertRecords, allRecords, type AdvertRecords } from './records';
import type { DnsQuestion, MdnsTransport } from './transport';
import type { Advert } from './types';

/** RFC 6762 §10: 120 s for records that name hosts. Tests and the agent may pick shorter. */
export const DEFAULT_TTL_SECONDS = 120;

/** RFC 6762 §8.3: announce at least twice, one second apart, in case one packet is lost. */
const ANNOUNCE_GAP_MS = 1000;

export interface AdvertiserOptions {
  advert: Advert;
  /** The peer port dialled by others. */
  port: number;
  /**
   * The addresses to advertise, read each time records are sent so they follow interface
   * changes: the `--advertise` address alone on a multi-homed host, else every usable one.
   */
  addresses: () => readonly string[];
  ttlSeconds?: number;
  log: Logger;
  clock?: Clock;
}

/**
 * Advertises this node as `_budgie._tcp` on a transport: announces on start and on every change,
 * answers queries while open, and says goodbye (TTL 0) on close. No probing for name conflicts:
 * instance names are node ids, unique by construction. The transport stays the caller's.
 */
export class MdnsAdvertiser {
  private advert: Advert;
  private readonly ttl: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private unsubscribe: (() => void) | undefined;
  private cancelAnnounce: (() => void) | undefined;

  constructor(
    private readonly transport: MdnsTransport,
    private readonly options: AdvertiserOptions,
  ) {
    this.advert = options.advert;
    this.ttl = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    this.clock = options.clock ?? systemClock;
    this.log = options.log;
    this.records(); // fail in the constructor, not at the first packet, when the advert is bad
  }

  get current(): Advert {
    return this.advert;
  }

  start(): Promise<void> {
    if (this.unsubscribe !== undefined) return Promise.resolve();
    this.unsubscribe = this.transport.onQuery((questions) => {
      this.answer(questions);
    });
    return this.announce();
  }

  /** Changes what is advertised (e.g. the node joined a cluster) and announces it at once. */
  async update(change: Partial<Omit<Advert, 'nodeId'>>): Promise<void> {
    const next = { ...this.advert, ...change };
    advertRecords(next, this.options.port, [], this.ttl); // validates before anything changes
    this.advert = next;
    if (this.unsubscribe !== undefined) await this.announce();
  }

  /** Stops answering and sends goodbyes so browsers drop this node now, not after the TTL. */
  async close(): Promise<void> {
    if (this.unsubscribe === undefined) return;
    this.unsubscribe();
    this.unsubscribe = undefined;
    this.cancelAnnounce?.();
    const goodbye = allRecords(this.records()).map((record) => ({ ...record, ttl: 0 }));
    try {
      await this.transport.respond(goodbye, []);
    } catch (err) {
      this.log.debug('mDNS goodbye not sent', { error: messageOf(err) });
    }
  }

  private records(): AdvertRecords {
    return advertRecords(this.advert, this.options.port, this.options.addresses(), this.ttl);
  }

  private async announce(): Promise<void> {
    this.cancelAnnounce?.();
    await this.send();
    this.cancelAnnounce = this.clock.schedule(() => {
      this.cancelAnnounce = undefined;
      void this.send();
    }, ANNOUNCE_GAP_MS);
  }

  private async send(): Promise<void> {
    const records = this.records();
    try {
      await this.transport.respond(allRecords(records), []);
    } catch (err) {
      // Announcements are best effort; browsers also query, and we answer those.
      this.log.debug('mDNS announcement not sent', { error: messageOf(err) });
    }
  }

  private answer(questions: DnsQuestion[]): void {
    const reply = answerQuery(questions, this.records());
    if (reply === undefined) return;
    this.transport.respond(reply.answers, reply.additionals).catch((err: unknown) => {
      this.log.debug('mDNS answer not sent', { error: messageOf(err) });
    });
  }
}
