import { networkInterfaces } from 'node:os';

/**
 * The addresses worth advertising when no `--advertise` address is given: every interface's
 * except loopback and IPv6 link-local ones (those need a zone index, which a peer cannot know).
 */
export function localAddresses(interfaces = networkInterfaces()): string[] {
  return Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter(
      (a) => !a.internal && !(a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80:')),
    )
    .map((a) => a.address);
}
