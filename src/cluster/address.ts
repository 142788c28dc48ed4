import { isIP } from 'node:net';
import { InvalidInputError } from '../errors';

export interface HostPort {
  host: string;
  port: number;
}

/** `HOST:PORT` or `[IPv6]:PORT`, as given to `--peer`; `what` names the flag in errors. */
export function parseHostPort(text: string, what = 'peer'): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || !(port >= 1 && port <= 65535) || (match?.[1] && isIP(host) !== 6)) {
    throw new InvalidInputError(
      `${what}: expected HOST:PORT (e.g. 192.168.1.20:7447 or [fe80::1]:7447), got ${JSON.stringify(text)}`,
    );
  }
  return { host, port };
}

/** The gRPC target for an address. */
export function grpcTarget({ host, port }: HostPort): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
