import { grpcTarget, parseHostPort } from '../../../src/cluster/address';

describe('parseHostPort', () => {
  it.each([
    ['192.168.1.20:7447', { host: '192.168.1.20', port: 7447 }],
    ['budgie-a.lan:1', { host: 'budgie-a.lan', port: 1 }],
    ['[fe80::1]:7447', { host: 'fe80::1', port: 7447 }],
  ])('reads %s', (text, expected) => {
    expect(parseHostPort(text)).toEqual(expected);
  });

  it.each(['192.168.1.20', ':7447', '10.0.0.1:0', '10.0.0.1:65536', 'fe80::1:7447', '[x]:1'])(
    'refuses %j with the expected form',
    (text) => {
      expect(() => parseHostPort(text)).toThrow(
        `peer: expected HOST:PORT (e.g. 192.168.1.20:7447 or [fe80::1]:7447), got ${JSON.stringify(text)}`,
      );
    },
  );

  it('brackets IPv6 hosts in gRPC targets', () => {
    expect(grpcTarget({ host: 'fe80::1', port: 7447 })).toBe('[fe80::1]:7447');
    expect(grpcTarget({ host: '10.0.0.1', port: 7447 })).toBe('10.0.0.1:7447');
  });
});
