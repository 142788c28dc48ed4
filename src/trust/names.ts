import { isIP } from 'node:net';
import { InvalidInputError } from '../errors';

/**
 * Checks on what a node says about itself. A node name is for people (usually the hostname) and
 * lands in a certificate subject, so it is kept to hostname characters; addresses go into the
 * certificate's IP SANs, so they must be IP literals.
 */
const NODE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const MAX_ADDRESSES = 16;

export function checkNodeName(name: string): string {
  if (!NODE_NAME_PATTERN.test(name)) {
    throw new InvalidInputError(
      `node name: expected 1-63 letters, digits, ".", "_" or "-" (a hostname), got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

export function checkAddresses(addresses: readonly string[]): string[] {
  if (addresses.length > MAX_ADDRESSES) {
    throw new InvalidInputError(
      `addresses: expected at most ${MAX_ADDRESSES}, got ${addresses.length}`,
    );
  }
  for (const [i, address] of addresses.entries()) {
    if (isIP(address) === 0) {
      throw new InvalidInputError(
        `addresses[${i}]: expected an IP address, got ${JSON.stringify(address)}`,
      );
    }
  }
  return [...new Set(addresses)];
}
