/** IPv4 addresses as unsigned 32-bit numbers, and CIDR blocks over them. */
export interface Cidr {
  /** The network address (host bits zero). */
  base: number;
  prefix: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Parses dotted-quad IPv4, or returns undefined. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses "a.b.c.d/n"; host bits must be zero, so a typo does not silently pick another block. */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  if (match === null) return undefined;
  const base = parseIpv4(match[1] ?? '');
  const prefix = Number(match[2]);
  if (base === undefined || prefix > 32) return undefined;
  if ((base & ~maskOf(prefix)) >>> 0 !== 0) return undefined;
  return { base, prefix };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIpv4(cidr.base)}/${cidr.prefix}`;
}

/** True when the two blocks share at least one address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  const mask = maskOf(Math.min(a.prefix, b.prefix));
  return (a.base & mask) >>> 0 === (b.base & mask) >>> 0;
}
