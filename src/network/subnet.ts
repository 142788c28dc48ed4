import { FailedPreconditionError } from '../errors';
import { type Cidr, formatCidr, overlaps } from './cidr';
import type { Route } from './routes';

/** The /16s tried in order when no subnet is configured: 10.213–10.254, then 10.200–10.212. */
export function defaultCandidates(): Cidr[] {
  const seconds = [...range(213, 254), ...range(200, 212)];
  return seconds.map((second) => ({ base: ((10 << 24) | (second << 16)) >>> 0, prefix: 16 }));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/**
 * The host routes a replica subnet must not overlap: all but default routes and routes through
 * our own bridge (which are ours, from an earlier attach).
 */
function foreignRoutes(routes: Route[], bridge: string): Route[] {
  return routes.filter((r) => r.destination.prefix > 0 && r.iface !== bridge);
}

function clash(subnet: Cidr, routes: Route[]): Route | undefined {
  return routes.find((r) => overlaps(r.destination, subnet));
}

/**
 * The subnet for the bridge: the configured one if it is free, else the first free default.
 * Fails when the configured subnet overlaps a host route, or when every default does.
 */
export function chooseSubnet(routes: Route[], bridge: string, configured?: Cidr): Cidr {
  const others = foreignRoutes(routes, bridge);
  if (configured !== undefined) {
    const route = clash(configured, others);
    if (route === undefined) return configured;
    throw new FailedPreconditionError(
      `network subnet ${formatCidr(configured)} overlaps the host route ` +
        `${formatCidr(route.destination)} on ${route.iface}; configure another subnet`,
    );
  }
  const free = defaultCandidates().find((candidate) => clash(candidate, others) === undefined);
  if (free !== undefined) return free;
  throw new FailedPreconditionError(
    'no free /16 for the replica network in 10.200.0.0–10.254.255.255 (host routes cover them all); configure a subnet',
  );
}
