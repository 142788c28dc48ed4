import { InvalidInputError } from '../../src/errors';
import { formatHostPort, parseHostPort } from '../../src/host-port';

describe('parseHostPort', () => {
  it.each([
    ['10.0.0.2:7447', { host: '10.0.0.2', port: 7447 }],
    ['Node-B.lan:1', { host: 'node-b.lan', port: 1 }],
    ['localhost:65535', { host: 'localhost', port: 65535 }],
    ['[fd00::2]:7447', { host: 'fd00::2', port: 7447 }],
    ['[::1]:80', { host: '::1', port: 80 }],
  ])('parses %s', (text, expected) => {
    expect(parseHostPort(text)).toEqual(expected);
  });

  it('uses the default port only when one is given', () => {
    expect(parseHostPort('10.0.0.2', '--peer', 7447)).toEqual({ host: '10.0.0.2', port: 7447 });
    expect(parseHostPort('[fd00::2]', '--peer', 7447)).toEqual({ host: 'fd00::2', port: 7447 });
    expect(() => parseHostPort('10.0.0.2')).toThrow('the port is missing');
  });

  it.each([
    ['', 'the host is missing'],
    [':7447', 'the host is missing'],
    ['fd00::2:7447', 'an IPv6 address goes in brackets'],
    ['[10.0.0.2]:7447', '"10.0.0.2" in brackets is not an IPv6 address'],
    ['10.0.0.256:7447', '"10.0.0.256" is not an IP address or host name'],
    ['bad_name:7447', '"bad_name" is not an IP address or host name'],
    ['-dash.lan:7447', 'is not an IP address or host name'],
    ['10.0.0.2:0', 'port "0" is not a number 1-65535'],
    ['10.0.0.2:65536', 'port "65536"'],
    ['10.0.0.2:http', 'port "http"'],
    ['10.0.0.2:', 'port ""'],
    ['[fd00::2]7447', 'expected [IPV6]:PORT after the bracket'],
    ['[fd00::2', 'expected [IPV6]:PORT after the bracket'],
  ])('refuses %j: %s', (text, why) => {
    const parse = () => parseHostPort(text, '--peer');
    expect(parse).toThrow(InvalidInputError);
    expect(parse).toThrow(why);
  });

  it('names the argument and shows the expected form on one line', () => {
    expect(() => parseHostPort('nope:x', 'peers[2]')).toThrow(
      'peers[2] "nope:x": port "x" is not a number 1-65535 (expected HOST:PORT, e.g. 10.0.0.2:7447, node-b.lan:7447 or [fd00::2]:7447)',
    );
  });

  it('formats IPv6 hosts in brackets', () => {
    expect(formatHostPort({ host: 'fd00::2', port: 7447 })).toBe('[fd00::2]:7447');
    expect(formatHostPort({ host: 'node-b', port: 7447 })).toBe('node-b:7447');
  });
});
