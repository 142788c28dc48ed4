import { isIPv4, isIPv6 } from 'node:net';
import { InvalidInputError } from './errors';

/** A peer API (or listen) address: `HOST:PORT`, IPv6 hosts in brackets. */
export interface HostPort {
  /** An IPv4 or IPv6 address (without brackets) or a DNS name, lowercased. */
  host: string;
  port: number;
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const EXAMPLE = 'e.g. 10.0.0.2:7447, node-b.lan:7447 or [fd00::2]:7447';

/**
 * Parses `HOST:PORT` (a peer, `--listen`) with IPv6 hosts in brackets. `what` names the argument in
 * errors (`--peer`, or a config path); with `defaultPort`, the port may be left out.
 */
export function parseHostPort(text: string, what = '--peer', defaultPort?: number): HostPort {
  const fail = (why: string): never => {
    throw new InvalidInputError(`${what} "${text}": ${why} (expected HOST:PORT, ${EXAMPLE})`);
  };
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  let host: string;
  let port: string | undefined;
  if (bracketed !== null) {
    host = bracketed[1] ?? '';
    port = bracketed[2];
    if (!isIPv6(host)) fail(`"${host}" in brackets is not an IPv6 address`);
  } else {
    if (text.startsWith('[')) fail('expected [IPV6]:PORT after the bracket');
    if (text.split(':').length > 2) fail('an IPv6 address goes in brackets');
    const colon = text.lastIndexOf(':');
    host = colon === -1 ? text : text.slice(0, colon);
    port = colon === -1 ? undefined : text.slice(colon + 1);
    if (host === '') fail('the host is missing');
    if (!isIPv4(host) && !isHostName(host)) fail(`"${host}" is not an IP address or host name`);
  }
  return { host: host.toLowerCase(), port: parsePort(port, defaultPort, fail) };
}

function parsePort(
  port: string | undefined,
  defaultPort: number | undefined,
  fail: (why: string) => never,
): number {
  if (port === undefined) {
    return defaultPort ?? fail('the port is missing');
  }
  const n = /^[0-9]{1,5}$/.test(port) ? Number(port) : NaN;
  if (!(n >= 1 && n <= 65535)) fail(`port "${port}" is not a number 1-65535`);
  return n;
}

function isHostName(host: string): boolean {
  // All digits and dots is an IPv4 address or nothing: 10.0.0.256 must not pass as a name.
  if (/^[0-9.]+$/.test(host) || host.length > 253) return false;
  return host
    .toLowerCase()
    .replace(/\.$/, '')
    .split('.')
    .every((label) => LABEL.test(label));
}

/** `host:port`, IPv6 in brackets: the form to print, dial (gRPC target) and key a static peer by. */
export function formatHostPort(address: HostPort): string {
  return isIPv6(address.host)
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}
