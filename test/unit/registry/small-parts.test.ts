import { parseChallenges } from '../../../src/registry/challenge';
import { choosePlatform, hostPlatform, listPlatforms } from '../../../src/registry/platform';
import { usesPlainHttp } from '../../../src/registry/scheme';

describe('parseChallenges', () => {
  it('reads a Docker Hub bearer challenge', () => {
    const header =
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"';
    expect(parseChallenges(header)).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/nginx:pull',
        },
      },
    ]);
  });

  it('reads several challenges, unquoted values and escapes', () => {
    expect(parseChallenges('Basic realm="a \\"b\\"", Bearer realm=x, service=y')).toEqual([
      { scheme: 'basic', params: { realm: 'a "b"' } },
      { scheme: 'bearer', params: { realm: 'x', service: 'y' } },
    ]);
  });

  it('survives garbage', () => {
    expect(parseChallenges('')).toEqual([]);
    expect(parseChallenges('=== "unterminated')).toEqual([]);
  });
});

describe('platforms', () => {
  const entry = (architecture: string, variant?: string) => ({
    mediaType: 'm',
    digest: `${architecture}${variant ?? ''}`,
    size: 1,
    platform: { os: 'linux', architecture, ...(variant === undefined ? {} : { variant }) },
  });

  it('maps Node architectures to OCI names', () => {
    expect(hostPlatform('x64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(hostPlatform('arm64')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(hostPlatform('ia32')).toEqual({ os: 'linux', architecture: '386' });
  });

  it('matches arm64 with or without v8, preferring the normal arm variant', () => {
    const arm64 = { os: 'linux', architecture: 'arm64' };
    expect(choosePlatform(arm64, [entry('arm64')])?.digest).toBe('arm64');
    expect(choosePlatform({ ...arm64, variant: 'v8' }, [entry('arm64')])?.digest).toBe('arm64');
    const arm = { os: 'linux', architecture: 'arm' };
    expect(choosePlatform(arm, [entry('arm', 'v6'), entry('arm', 'v7')])?.digest).toBe('armv7');
    expect(choosePlatform({ ...arm, variant: 'v6' }, [entry('arm', 'v7')])).toBeUndefined();
  });

  it('lists platforms without attestation entries', () => {
    const unknown = { ...entry('unknown'), platform: { os: 'unknown', architecture: 'unknown' } };
    expect(listPlatforms([entry('amd64'), entry('arm', 'v7'), unknown])).toEqual([
      'linux/amd64',
      'linux/arm/v7',
    ]);
  });
});

describe('usesPlainHttp', () => {
  it.each([
    ['127.0.0.1:5000', [], true],
    ['127.1.2.3', [], true],
    ['localhost:5000', [], true],
    ['[::1]:5000', [], true],
    ['registry.lan:5000', [], false],
    ['registry.lan:5000', ['registry.lan:5000'], true],
    ['registry.lan:5000', ['registry.lan'], true],
    ['registry.lan:5000', ['registry.lan:6000'], false],
    ['registry-1.docker.io', [], false],
  ])('%s with %j → %s', (host, insecure, plain) => {
    expect(usesPlainHttp(host, insecure)).toBe(plain);
  });
});
