/**
 * The narrow face of mDNS that discovery needs: send and receive query and response packets on
 * the multicast group. Records are Budgie's own types, not the wire library's, so the advertiser
 * and browser can be unit tested on an in-memory fake (test/support/fakes/mdns.ts).
 */
interface RecordBase {
  name: string;
  /** Seconds; 0 is a goodbye (RFC 6762 §10.1). */
  ttl: number;
  /** The cache-flush bit: this record replaces every older one of its name and type. */
  flush?: boolean;
}

export type DnsRecord =
  | (RecordBase & { type: 'PTR'; data: string })
  | (RecordBase & { type: 'SRV'; data: { port: number; target: string } })
  | (RecordBase & { type: 'TXT'; data: Buffer[] })
  | (RecordBase & { type: 'A' | 'AAAA'; data: string });

export type QuestionType = DnsRecord['type'] | 'ANY';

export interface DnsQuestion {
  name: string;
  /** Questions for other types cannot match our records, so transports drop them. */
  type: QuestionType;
}

/** We only ask for specific types: 'ANY' is for diagnostics, and our records come together. */
export type OutgoingQuestion = DnsQuestion & { type: DnsRecord['type'] };

/** Answers and additionals of one response packet, as received. */
export type ResponseListener = (records: DnsRecord[], from: string) => void;
export type QueryListener = (questions: DnsQuestion[], from: string) => void;

export interface MdnsTransport {
  /** Multicasts a query. Resolves once sent; rejects when the socket cannot send. */
  query(questions: OutgoingQuestion[]): Promise<void>;
  /** Multicasts a response. */
  respond(answers: DnsRecord[], additionals: DnsRecord[]): Promise<void>;
  /** Subscribes; returns the unsubscribe. Packets we send ourselves arrive here too (loopback). */
  onQuery(listener: QueryListener): () => void;
  onResponse(listener: ResponseListener): () => void;
  /** Closes the socket. */
  close(): Promise<void>;
}
