import { hostName, instanceName, SERVICE_TYPE, SERVICES_ENUMERATION } from './names';
import type { DnsRecord } from './transport';
import { encodeTxt } from './txt';
import type { Advert } from './types';
import { isIPv4 } from 'node:net';

export interface AdvertRecords {
  /** PTR service type -> instance: what browsers ask for. */
  ptr: DnsRecord;
  /** SRV and TXT of the instance, then the host's A/AAAA records. */
  srv: DnsRecord;
  txt: DnsRecord;
  addresses: DnsRecord[];
  /** PTR from the DNS-SD enumeration name to our service type. */
  enumeration: DnsRecord;
}

/** The records of one advert, all with the same TTL so one refresh renews them together. */
export function advertRecords(
  advert: Advert,
  port: number,
  addresses: readonly string[],
  ttl: number,
): AdvertRecords {
  const instance = instanceName(advert.nodeId);
  const host = hostName(advert.nodeId);
  // SRV, TXT and address records are unique to this node, so they carry the cache-flush bit: a
  // changed TXT replaces the old one in every cache instead of sitting beside it (RFC 6762 §10.2).
  return {
    ptr: { name: SERVICE_TYPE, type: 'PTR', ttl, data: instance },
    srv: { name: instance, type: 'SRV', ttl, flush: true, data: { port, target: host } },
    txt: { name: instance, type: 'TXT', ttl, flush: true, data: encodeTxt(advert) },
    addresses: addresses.map((address) => ({
      name: host,
      type: isIPv4(address) ? 'A' : 'AAAA',
      ttl,
      flush: true,
      data: address,
    })),
    enumeration: { name: SERVICES_ENUMERATION, type: 'PTR', ttl, data: SERVICE_TYPE },
  };
}

export function allRecords(records: AdvertRecords): DnsRecord[] {
  return [records.ptr, records.srv, records.txt, ...records.addresses];
}
