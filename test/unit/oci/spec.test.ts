import { InvalidInputError } from '../../../src/errors';
import { buildSpec, mergeEnv, parseUser, type SpecInput } from '../../../src/oci/spec';

const base: SpecInput = {
  id: 'c1',
  namespace: 'budgie',
  hostname: 'abcdef012345',
  image: {
    entrypoint: ['/docker-entrypoint.sh'],
    cmd: ['nginx', '-g', 'daemon off;'],
    env: ['PATH=/bin', 'A=1'],
  },
  environment: [],
  volumes: [],
};

describe('buildSpec', () => {
  it('runs the image entrypoint followed by its cmd', () => {
    expect(buildSpec(base).process.args).toEqual([
      '/docker-entrypoint.sh',
      'nginx',
      '-g',
      'daemon off;',
    ]);
  });

  it('replaces cmd with the .bun command and keeps the entrypoint', () => {
    expect(buildSpec({ ...base, command: ['sh'] }).process.args).toEqual([
      '/docker-entrypoint.sh',
      'sh',
    ]);
  });

  it("drops the image's cmd when only the entrypoint is overridden (as Docker does)", () => {
    expect(buildSpec({ ...base, entrypoint: ['/bin/top'] }).process.args).toEqual(['/bin/top']);
  });

  it('refuses an image with nothing to run', () => {
    expect(() => buildSpec({ ...base, image: {} })).toThrow(InvalidInputError);
  });

  it('sets hostname, cgroup under the namespace, cwd and the network namespace path', () => {
    const spec = buildSpec({ ...base, netnsPath: '/var/run/netns/x', workdir: '/app' });
    expect(spec.hostname).toBe('abcdef012345');
    expect(spec.linux.cgroupsPath).toBe('/budgie/c1');
    expect(spec.process.cwd).toBe('/app');
    expect(spec.linux.namespaces).toContainEqual({ type: 'network', path: '/var/run/netns/x' });
    expect(spec.linux.namespaces.map((n) => n.type)).toEqual([
      'pid',
      'ipc',
      'uts',
      'mount',
      'network',
    ]);
  });

  it("uses the image's working dir, else /", () => {
    expect(buildSpec({ ...base, image: { ...base.image, workingDir: '/srv' } }).process.cwd).toBe(
      '/srv',
    );
    expect(buildSpec(base).process.cwd).toBe('/');
  });

  it('binds volumes with ro honoured', () => {
    const spec = buildSpec({
      ...base,
      volumes: [
        { source: '/data/a', target: '/a', mode: 'rw' },
        { source: '/data/b', target: '/b', mode: 'ro' },
      ],
    });
    const binds = spec.mounts.filter((m) => m.type === 'bind');
    expect(binds).toEqual([
      {
        destination: '/a',
        type: 'bind',
        source: '/data/a',
        options: ['rbind', 'rprivate', 'nosuid', 'nodev', 'rw'],
      },
      {
        destination: '/b',
        type: 'bind',
        source: '/data/b',
        options: ['rbind', 'rprivate', 'nosuid', 'nodev', 'ro'],
      },
    ]);
  });

  it("has Docker's default capabilities and masks /proc/kcore", () => {
    const spec = buildSpec(base);
    expect(spec.process.capabilities.bounding).toHaveLength(14);
    expect(spec.process.capabilities.bounding).not.toContain('CAP_SYS_ADMIN');
    expect(spec.linux.maskedPaths).toContain('/proc/kcore');
    expect(spec.mounts.map((m) => m.destination)).toEqual(
      expect.arrayContaining(['/proc', '/dev', '/dev/pts', '/dev/shm', '/sys']),
    );
  });

  it('sets no rlimits, so the container inherits what runc may grant (never past the hard limit)', () => {
    expect(buildSpec(base).process.rlimits).toBeUndefined();
  });
});

describe('mergeEnv', () => {
  it('lets the .bun override image values in place and keeps order', () => {
    expect(
      mergeEnv(
        ['PATH=/bin', 'A=1', 'B=2'],
        [
          { name: 'A', value: 'x=y' },
          { name: 'C', value: '' },
        ],
      ),
    ).toEqual(['PATH=/bin', 'A=x=y', 'B=2', 'C=']);
  });

  it('adds a default PATH when the image has none', () => {
    expect(mergeEnv([], [])[0]).toMatch(/^PATH=\/usr\/local\/sbin/);
  });
});

describe('parseUser', () => {
  it.each([
    [undefined, { uid: 0, gid: 0 }],
    ['', { uid: 0, gid: 0 }],
    ['1000', { uid: 1000, gid: 1000 }],
    ['1000:50', { uid: 1000, gid: 50 }],
  ])('%s', (input, expected) => {
    expect(parseUser(input)).toEqual(expected);
  });

  it('refuses names with a clear error', () => {
    expect(() => parseUser('nginx')).toThrow('image user "nginx"');
  });
});
