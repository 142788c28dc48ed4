/** DNS-SD names of Budgie's service (RFC 6763). */
export const SERVICE_TYPE = '_budgie._tcp.local';
/** Service type enumeration: lets generic browsers (`avahi-browse -a`) list Budgie too. */
export const SERVICES_ENUMERATION = '_services._dns-sd._udp.local';

/**
 * A node's instance label: its id, cut to 32 characters (128 bits of a hash stays unique) because
 * a DNS label holds at most 63 and ids may be longer.
 */
export function instanceLabel(nodeId: string): string {
  return nodeId.slice(0, 32);
}

export function instanceName(nodeId: string): string {
  return `${instanceLabel(nodeId)}.${SERVICE_TYPE}`;
}

/**
 * The host name the SRV record points at. Not the machine's hostname: that one belongs to the
 * host's own responder (avahi), and announcing its addresses too would conflict with it.
 */
export function hostName(nodeId: string): string {
  return `budgie-${instanceLabel(nodeId)}.local`;
}

/** DNS names compare case-insensitively (RFC 1035 §2.3.3). */
export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
