import type { Cidr } from './cidr';
import { maskOf } from './cidr';

export interface Route {
  iface: string;
  destination: Cidr;
}

/** Reads a little-endian hex word of /proc/net/route ("000200C0" is 192.0.2.0). */
function hexWord(text: string): number | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(text)) return undefined;
  const n = parseInt(text, 16);
  return (
    (((n & 0xff) << 24) | (((n >>> 8) & 0xff) << 16) | (((n >>> 16) & 0xff) << 8) | (n >>> 24)) >>>
    0
  );
}

function prefixOf(mask: number): number | undefined {
  for (let prefix = 0; prefix <= 32; prefix++) if (maskOf(prefix) === mask) return prefix;
  return undefined;
}

/** The IPv4 routes of the main table, from the text of /proc/net/route. Odd lines are skipped. */
export function parseProcRoutes(text: string): Route[] {
  const routes: Route[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [iface, destination, , , , , , mask] = line.trim().split(/\s+/);
    if (iface === undefined || destination === undefined || mask === undefined) continue;
    const base = hexWord(destination);
    const maskValue = hexWord(mask);
    const prefix = maskValue === undefined ? undefined : prefixOf(maskValue);
    if (base === undefined || prefix === undefined) continue;
    routes.push({ iface, destination: { base, prefix } });
  }
  return routes;
}
