import type { Clock } from '../../../src/discovery/clock';
import type {
  DnsQuestion,
  DnsRecord,
  MdnsTransport,
  OutgoingQuestion,
  QueryListener,
  ResponseListener,
} from '../../../src/discovery/transport';

export type SentPacket =
  | { from: string; kind: 'query'; questions: DnsQuestion[] }
  | { from: string; kind: 'response'; answers: DnsRecord[]; additionals: DnsRecord[] };

/**
 * One multicast link in memory: every packet a transport sends reaches every connected transport,
 * the sender too (as multicast loopback does), a microtask later, like a datagram.
 */
export class FakeMdnsNetwork {
  readonly sent: SentPacket[] = [];
  private readonly hosts: FakeMdnsTransport[] = [];

  transport(address: string): FakeMdnsTransport {
    const transport = new FakeMdnsTransport(this, address);
    this.hosts.push(transport);
    return transport;
  }

  /** A response from `from` that no transport of ours sent: spoofed or malformed adverts. */
  inject(records: DnsRecord[], from: string): void {
    this.deliver({ from, kind: 'response', answers: records, additionals: [] });
  }

  deliver(packet: SentPacket): void {
    this.sent.push(packet);
    for (const host of this.hosts.filter((h) => h.connected)) {
      queueMicrotask(() => {
        host.receive(packet);
      });
    }
  }
}

export class FakeMdnsTransport implements MdnsTransport {
  /** False: the host is gone (killed, cable out): it neither sends nor receives. */
  connected = true;
  closed = false;
  private readonly queryListeners = new Set<QueryListener>();
  private readonly responseListeners = new Set<ResponseListener>();

  constructor(
    private readonly network: FakeMdnsNetwork,
    readonly address: string,
  ) {}

  query(questions: OutgoingQuestion[]): Promise<void> {
    if (this.connected) this.network.deliver({ from: this.address, kind: 'query', questions });
    return Promise.resolve();
  }

  respond(answers: DnsRecord[], additionals: DnsRecord[]): Promise<void> {
    if (this.connected) {
      this.network.deliver({ from: this.address, kind: 'response', answers, additionals });
    }
    return Promise.resolve();
  }

  onQuery(listener: QueryListener): () => void {
    this.queryListeners.add(listener);
    return () => this.queryListeners.delete(listener);
  }

  onResponse(listener: ResponseListener): () => void {
    this.responseListeners.add(listener);
    return () => this.responseListeners.delete(listener);
  }

  close(): Promise<void> {
    this.closed = true;
    this.connected = false;
    return Promise.resolve();
  }

  receive(packet: SentPacket): void {
    if (!this.connected) return;
    if (packet.kind === 'query') {
      for (const l of this.queryListeners) l(packet.questions, packet.from);
    } else {
      for (const l of this.responseListeners) {
        l([...packet.answers, ...packet.additionals], packet.from);
      }
    }
  }
}

/** Lets queued datagrams (microtasks) and their answers arrive. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A clock that moves only when told; due timers run in order, letting packets settle between. */
export class ManualClock implements Clock {
  private time = 1_000_000;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.time;
  }

  schedule(fn: () => void, ms: number): () => void {
    const id = this.seq++;
    this.timers.set(id, { at: this.time + ms, fn });
    return () => this.timers.delete(id);
  }

  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    await settle();
    for (;;) {
      const next = [...this.timers.entries()]
        .filter(([, t]) => t.at <= target)
        .sort(([a, x], [b, y]) => x.at - y.at || a - b)[0];
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
      await settle();
    }
    this.time = target;
  }
}
