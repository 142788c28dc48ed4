import { InvalidInputError } from '../errors';
import type { Advert } from './types';

/** The peer protocol version this build speaks, advertised as `v`. */
export const PROTOCOL_VERSION = 1;

/** TXT keys, short because every advert carries them (RFC 6763 §6.4 suggests at most 9 chars). */
const KEY = { nodeId: 'id', clusterId: 'cid', name: 'name', version: 'v' } as const;

const ID = /^[0-9a-z]{8,64}$/;
const NAME_MAX_BYTES = 63;
// Printable text without control characters: names end up in terminals and logs.
const NAME = /^[^\p{Cc}]+$/u;
const VERSION = /^[1-9][0-9]{0,4}$/;

/** Why an advert is not valid, or undefined when it is. Shared by encode and decode. */
function problemWith(advert: Advert): string | undefined {
  if (!ID.test(advert.nodeId)) return `node id "${advert.nodeId}": expected 8-64 of [0-9a-z]`;
  if (advert.clusterId !== undefined && !ID.test(advert.clusterId)) {
    return `cluster id "${advert.clusterId}": expected 8-64 of [0-9a-z]`;
  }
  const nameBytes = Buffer.byteLength(advert.name);
  if (nameBytes === 0 || nameBytes > NAME_MAX_BYTES || !NAME.test(advert.name)) {
    return `node name "${advert.name}": expected 1-${NAME_MAX_BYTES} bytes of printable text`;
  }
  if (!Number.isInteger(advert.version) || advert.version < 1 || advert.version > 65535) {
    return `protocol version ${advert.version}: expected an integer 1-65535`;
  }
  return undefined;
}

/** The TXT strings of an advert. Throws InvalidInputError naming the bad field. */
export function encodeTxt(advert: Advert): Buffer[] {
  const problem = problemWith(advert);
  if (problem !== undefined) throw new InvalidInputError(`mDNS advert: ${problem}`);
  const pairs: [string, string][] = [
    [KEY.nodeId, advert.nodeId],
    [KEY.name, advert.name],
    [KEY.version, String(advert.version)],
  ];
  // Absent rather than empty: "not in a cluster" has one spelling on the wire.
  if (advert.clusterId !== undefined) pairs.push([KEY.clusterId, advert.clusterId]);
  return pairs.map(([key, value]) => Buffer.from(`${key}=${value}`));
}

export type DecodedTxt = { ok: true; advert: Advert } | { ok: false; problem: string };

/**
 * Reads an advert from TXT strings, trusting nothing (any host on the LAN can send one). Keys are
 * case-insensitive and the first of a repeated key wins (RFC 6763 §6.4); unknown keys are ignored
 * so later versions can add some.
 */
export function decodeTxt(strings: readonly Buffer[]): DecodedTxt {
  const values = new Map<string, string>();
  for (const raw of strings) {
    const text = raw.toString('utf8');
    const eq = text.indexOf('=');
    if (eq <= 0) continue; // a boolean attribute or an empty key: none of ours
    const key = text.slice(0, eq).toLowerCase();
    if (!values.has(key)) values.set(key, text.slice(eq + 1));
  }
  const nodeId = values.get(KEY.nodeId);
  const name = values.get(KEY.name);
  const version = values.get(KEY.version);
  const missing = [
    nodeId === undefined ? KEY.nodeId : '',
    name === undefined ? KEY.name : '',
    version === undefined ? KEY.version : '',
  ].filter((k) => k !== '');
  if (nodeId === undefined || name === undefined || version === undefined) {
    return { ok: false, problem: `TXT lacks ${missing.join(', ')}` };
  }
  if (!VERSION.test(version)) return { ok: false, problem: `TXT v="${version}" is not a version` };
  const clusterId = values.get(KEY.clusterId);
  const advert: Advert = {
    nodeId,
    // An empty cid from another implementation means the same as none.
    clusterId: clusterId === '' ? undefined : clusterId,
    name,
    version: Number(version),
  };
  const problem = problemWith(advert);
  return problem === undefined ? { ok: true, advert } : { ok: false, problem: `TXT ${problem}` };
}
