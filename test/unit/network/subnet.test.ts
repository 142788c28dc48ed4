import { FailedPreconditionError } from '../../../src/errors';
import { formatCidr, overlaps, parseCidr, parseIpv4 } from '../../../src/network/cidr';
import { parseProcRoutes, type Route } from '../../../src/network/routes';
import { chooseSubnet } from '../../../src/network/subnet';
import { FakeHost } from './fake-host';

const cidr = (text: string) => {
  const parsed = parseCidr(text);
  if (parsed === undefined) throw new Error(`bad test cidr ${text}`);
  return parsed;
};
const route = (iface: string, destination: string): Route => ({
  iface,
  destination: cidr(destination),
});
const hostRoutes = [route('eth0', '0.0.0.0/0'), route('eth0', '192.0.2.0/24')];

describe('addresses', () => {
  it('parses and formats IPv4 networks', () => {
    expect(parseIpv4('10.213.0.1')).toBe(0x0ad50001);
    expect(parseIpv4('10.213.0')).toBeUndefined();
    expect(parseIpv4('10.256.0.1')).toBeUndefined();
    expect(formatCidr(cidr('10.213.0.0/16'))).toBe('10.213.0.0/16');
    expect(parseCidr('10.213.0.1/16')).toBeUndefined(); // host bits set: a typo, not a network
    expect(parseCidr('10.213.0.0/33')).toBeUndefined();
    expect(parseCidr('0.0.0.0/0')).toEqual({ base: 0, prefix: 0 });
  });

  it('finds overlaps in either direction', () => {
    expect(overlaps(cidr('10.0.0.0/8'), cidr('10.213.4.0/24'))).toBe(true);
    expect(overlaps(cidr('10.213.4.0/24'), cidr('10.0.0.0/8'))).toBe(true);
    expect(overlaps(cidr('10.213.0.0/16'), cidr('10.214.0.0/16'))).toBe(false);
    expect(overlaps(cidr('192.168.1.128/25'), cidr('192.168.1.0/25'))).toBe(false);
  });

  it('reads /proc/net/route (little-endian hex), skipping the header and odd lines', async () => {
    const host = new FakeHost();
    host.addRoute('docker0', '172.17.0.0', '255.255.0.0');
    const routes = parseProcRoutes(`${await host.readRoutes()}garbage line\n\n`);
    expect(routes.map((r) => `${r.iface} ${formatCidr(r.destination)}`)).toEqual([
      'eth0 0.0.0.0/0',
      'eth0 192.0.2.0/24',
      'docker0 172.17.0.0/16',
    ]);
  });
});

describe('chooseSubnet', () => {
  it('defaults to 10.213.0.0/16 on a host that does not use it', () => {
    expect(formatCidr(chooseSubnet(hostRoutes, 'budgie0'))).toBe('10.213.0.0/16');
  });

  it('moves to the next free /16 when a host route clashes', () => {
    const routes = [...hostRoutes, route('wg0', '10.213.7.0/24'), route('tun0', '10.214.0.0/15')];
    expect(formatCidr(chooseSubnet(routes, 'budgie0'))).toBe('10.216.0.0/16');
  });

  it('ignores the route of its own bridge, so the choice stays put after the first attach', () => {
    const routes = [...hostRoutes, route('budgie0', '10.213.0.0/16')];
    expect(formatCidr(chooseSubnet(routes, 'budgie0'))).toBe('10.213.0.0/16');
    expect(formatCidr(chooseSubnet(routes, 'other0'))).toBe('10.214.0.0/16');
  });

  it('keeps a configured subnet that is free', () => {
    expect(formatCidr(chooseSubnet(hostRoutes, 'budgie0', cidr('172.30.5.0/24')))).toBe(
      '172.30.5.0/24',
    );
  });

  it('refuses a configured subnet that overlaps a host route, naming the route', () => {
    expect(() => chooseSubnet(hostRoutes, 'budgie0', cidr('192.0.2.128/25'))).toThrow(
      new FailedPreconditionError(
        'network subnet 192.0.2.128/25 overlaps the host route 192.0.2.0/24 on eth0; configure another subnet',
      ),
    );
  });

  it('fails when host routes cover every default', () => {
    const routes = [...hostRoutes, route('vpn0', '10.0.0.0/8')];
    expect(() => chooseSubnet(routes, 'budgie0')).toThrow(FailedPreconditionError);
  });
});
