import { instanceName, sameName, SERVICE_TYPE } from './names';
import type { DnsRecord } from './transport';
import { decodeTxt } from './txt';
import type { Advert } from './types';

/** One complete advert seen in a response. */
export interface SeenAdvert {
  advert: Advert;
  instance: string;
  addresses: string[];
  port: number;
  /** Seconds: the shortest TTL of its records, since the advert is only whole while all live. */
  ttl: number;
}

export interface ParsedResponse {
  adverts: SeenAdvert[];
  /** Instance names whose PTR came with TTL 0. */
  goodbyes: string[];
  /** Why an advert in the packet was ignored, one line each, for the debug log. */
  problems: string[];
}

/**
 * Reads Budgie adverts out of one response packet. Anything malformed is reported in `problems`
 * and skipped, never thrown: the packet came from anyone on the LAN.
 */
export function parseResponse(records: readonly DnsRecord[], from: string): ParsedResponse {
  const result: ParsedResponse = { adverts: [], goodbyes: [], problems: [] };
  const live = records.filter((r) => r.ttl > 0);
  for (const ptr of records) {
    if (ptr.type !== 'PTR' || !sameName(ptr.name, SERVICE_TYPE)) continue;
    if (ptr.ttl === 0) {
      result.goodbyes.push(ptr.data);
      continue;
    }
    const seen = advertOf(ptr.data, ptr.ttl, live, from);
    if (typeof seen === 'string') result.problems.push(`${ptr.data} from ${from}: ${seen}`);
    else result.adverts.push(seen);
  }
  return result;
}

function advertOf(
  instance: string,
  ptrTtl: number,
  live: readonly DnsRecord[],
  from: string,
): SeenAdvert | string {
  let srv: Extract<DnsRecord, { type: 'SRV' }> | undefined;
  let txt: Extract<DnsRecord, { type: 'TXT' }> | undefined;
  for (const r of live) {
    if (!sameName(r.name, instance)) continue;
    if (r.type === 'SRV') srv ??= r;
    if (r.type === 'TXT') txt ??= r;
  }
  if (srv === undefined || txt === undefined) return 'no SRV or TXT record with the PTR';
  const port = srv.data.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `bad port ${port}`;
  const decoded = decodeTxt(txt.data);
  if (!decoded.ok) return decoded.problem;
  // The instance must be the one the id implies, so one node cannot say goodbye for another.
  if (!sameName(instanceName(decoded.advert.nodeId), instance)) {
    return `instance name does not match node id ${decoded.advert.nodeId}`;
  }
  const target = srv.data.target;
  const advertised = live.flatMap((r) =>
    (r.type === 'A' || r.type === 'AAAA') && sameName(r.name, target) ? [r.data] : [],
  );
  return {
    advert: decoded.advert,
    instance,
    addresses: orderAddresses([...new Set(advertised)], from),
    port,
    ttl: Math.min(ptrTtl, srv.ttl, txt.ttl),
  };
}

/**
 * The packet's source first when the node advertises it (it just proved reachable on this
 * link); only the source when it advertises none; only what it advertises otherwise, since a
 * node that names its addresses (`--advertise`) has said where to dial.
 */
function orderAddresses(advertised: string[], from: string): string[] {
  if (advertised.length === 0) return [from];
  if (!advertised.includes(from)) return advertised;
  return [from, ...advertised.filter((a) => a !== from)];
}
