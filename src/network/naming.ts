import { createHash } from 'node:crypto';
import { InvalidInputError } from '../errors';

/** The CNI spec's rule for container ids; it also makes a safe file name. */
const REPLICA_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const BRIDGE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

export function checkReplicaId(replicaId: string): void {
  if (!REPLICA_ID.test(replicaId)) {
    throw new InvalidInputError(
      `replica id ${JSON.stringify(replicaId)} is not usable for networking: expected 1–128 letters, digits, '_', '.' or '-', starting with a letter or digit`,
    );
  }
}

export function checkBridgeName(bridge: string): void {
  if (!BRIDGE.test(bridge)) {
    throw new InvalidInputError(
      `network bridge ${JSON.stringify(bridge)} is not a valid interface name: expected 1–15 letters, digits, '_', '.' or '-'`,
    );
  }
}

/** Every namespace this node owns starts with this, so nodes sharing a host never collide. */
export function netnsPrefix(nodeName: string): string {
  return `budgie-${shortHash(nodeName, 8)}-`;
}

/**
 * The replica's namespace name. The id is hashed, not cut: ids that share their first characters
 * ("web-frontend-0", "web-frontend-1") must not share a namespace.
 */
export function netnsName(nodeName: string, replicaId: string): string {
  return `${netnsPrefix(nodeName)}${shortHash(replicaId, 12)}`;
}

/** The CNI network name: host-local keeps its leases under it, and iptables rules carry it. */
export function networkName(bridge: string): string {
  return `budgie-${bridge}`;
}
