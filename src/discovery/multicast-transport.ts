import type { RemoteInfo } from 'node:dgram';
import type { Answer, Question } from 'dns-packet';
import makeMdns from 'multicast-dns';
import { messageOf, UnavailableError } from '../errors';
import type { Logger } from '../log';
import type {
  DnsQuestion,
  DnsRecord,
  MdnsTransport,
  OutgoingQuestion,
  QueryListener,
  QuestionType,
  ResponseListener,
} from './transport';

export interface MulticastOptions {
  /**
   * `--advertise ADDR` on a multi-homed host: join the group and send on that interface only.
   * Without it, every interface with an IPv4 address (re-checked every 5 s by multicast-dns).
   */
  interfaceAddress?: string;
  /** The UDP port; 5353 is mDNS's, another only for tests that must not meet real responders. */
  port?: number;
  log: Logger;
}

/**
 * Opens the mDNS socket (IPv4, 224.0.0.251:5353, shared with other responders on the host via
 * SO_REUSEADDR). Rejects with UnavailableError when the port cannot be bound.
 */
export async function openMulticastTransport(options: MulticastOptions): Promise<MdnsTransport> {
  const mdns = makeMdns({
    port: options.port ?? 5353,
    interface: options.interfaceAddress,
    // multicast-dns binds to `interface` when given; on Linux a socket bound to a unicast address
    // never receives multicast, so keep the wildcard and let `interface` pick the membership.
    bind: '0.0.0.0',
  });
  await new Promise<void>((resolve, reject) => {
    mdns.once('ready', resolve);
    mdns.once('error', (err: Error) => {
      reject(
        new UnavailableError(`mDNS: cannot open UDP port 5353: ${err.message}`, { cause: err }),
      );
    });
  });
  // Later socket errors and undecodable packets are the LAN's noise, not failures.
  mdns.on('error', (err: Error) => options.log.debug('mDNS socket error', { error: err.message }));
  mdns.on('warning', (err: Error) => options.log.debug('mDNS warning', { error: err.message }));

  return {
    query: (questions) =>
      new Promise((resolve, reject) => {
        mdns.query(questions.map(toQuestion), settle('query', resolve, reject));
      }),
    respond: (answers, additionals) =>
      new Promise((resolve, reject) => {
        const packet = { answers: answers.map(toAnswer), additionals: additionals.map(toAnswer) };
        mdns.respond(packet, settle('response', resolve, reject));
      }),
    onQuery(listener: QueryListener) {
      const handler = (packet: { questions: Question[] }, rinfo: RemoteInfo) => {
        listener(packet.questions.flatMap(fromQuestion), rinfo.address);
      };
      mdns.on('query', handler);
      return () => mdns.removeListener('query', handler);
    },
    onResponse(listener: ResponseListener) {
      const handler = (packet: { answers: Answer[]; additionals: Answer[] }, rinfo: RemoteInfo) => {
        const records = [...packet.answers, ...packet.additionals].flatMap(fromAnswer);
        listener(records, rinfo.address);
      };
      mdns.on('response', handler);
      return () => mdns.removeListener('response', handler);
    },
    close: () =>
      new Promise((resolve) => {
        mdns.destroy(resolve);
      }),
  };
}

/** A send callback that settles a promise, with a one-line error naming what was not sent. */
function settle(what: string, resolve: () => void, reject: (err: Error) => void) {
  return (err: Error | null) => {
    if (err === null) resolve();
    else reject(new UnavailableError(`mDNS: ${what} not sent: ${messageOf(err)}`, { cause: err }));
  };
}

const QUESTION_TYPES: ReadonlySet<string> = new Set<QuestionType>([
  'PTR',
  'SRV',
  'TXT',
  'A',
  'AAAA',
  'ANY',
]);

function isQuestionType(type: string): type is QuestionType {
  return QUESTION_TYPES.has(type);
}

function toQuestion(question: OutgoingQuestion): Question {
  return { name: question.name, type: question.type };
}

function fromQuestion(question: Question): DnsQuestion[] {
  return isQuestionType(question.type) ? [{ name: question.name, type: question.type }] : [];
}

function toAnswer(record: DnsRecord): Answer {
  return { ...record, flush: record.flush ?? false };
}

/** A decoded wire record as Budgie's type; records discovery does not use are dropped. */
function fromAnswer(answer: Answer): DnsRecord[] {
  const base = { name: answer.name, ttl: 'ttl' in answer ? (answer.ttl ?? 0) : 0 };
  switch (answer.type) {
    case 'PTR':
    case 'A':
    case 'AAAA':
      return [{ ...base, type: answer.type, data: answer.data }];
    case 'SRV':
      return [
        { ...base, type: 'SRV', data: { port: answer.data.port, target: answer.data.target } },
      ];
    case 'TXT': {
      const data = Array.isArray(answer.data) ? answer.data : [answer.data];
      return [
        {
          ...base,
          type: 'TXT',
          data: data.map((d) => (typeof d === 'string' ? Buffer.from(d) : d)),
        },
      ];
    }
    default:
      return [];
  }
}
