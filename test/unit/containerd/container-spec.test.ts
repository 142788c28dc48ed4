import {
  checkCreateOptions,
  containerSpec,
  defaultHostname,
  imageRunConfig,
} from '../../../src/containerd/container-spec';
import { InvalidInputError } from '../../../src/errors';
import type { ImageConfig } from '../../../src/oci/image-codecs';
import type { ContainerCreateOptions } from '../../../src/runtime/containers';

const ID = 'ab'.repeat(32);

const options: ContainerCreateOptions = {
  id: ID,
  image: 'docker.io/library/busybox-httpd:latest',
  labels: { 'budgie.app': 'web' },
  environment: [{ name: 'GREETING', value: 'hi' }],
  volumes: [{ source: '/srv/data', target: '/data', mode: 'ro' }],
  logPath: '/var/log/budgie/web/1.log',
};

const image: ImageConfig = {
  rootfs: { type: 'layers', diff_ids: ['sha256:aa'] },
  config: { Cmd: ['httpd', '-f'], Env: ['PATH=/bin'], WorkingDir: '/www', User: '1000' },
};

describe('checkCreateOptions', () => {
  it('accepts a 64-hex ID and an absolute log path', () => {
    expect(() => {
      checkCreateOptions(options);
    }).not.toThrow();
  });

  it.each([['web-1'], [ID.toUpperCase()], [ID.slice(1)]])('refuses the ID %s', (id) => {
    expect(() => {
      checkCreateOptions({ ...options, id });
    }).toThrow(InvalidInputError);
  });

  it('refuses a relative log path, naming it', () => {
    expect(() => {
      checkCreateOptions({ ...options, logPath: 'logs/1.log' });
    }).toThrow('container log path "logs/1.log" is not absolute');
  });
});

describe('imageRunConfig', () => {
  it('reads JSON nulls (as Docker writes them) as unset', () => {
    const config: ImageConfig = {
      rootfs: { type: 'layers', diff_ids: [] },
      config: { Entrypoint: null, Cmd: ['sh'], Env: null },
    };
    expect(imageRunConfig(config)).toEqual({ cmd: ['sh'] });
  });

  it('is empty for an image without a config section', () => {
    expect(imageRunConfig({ rootfs: { type: 'layers', diff_ids: [] } })).toEqual({});
  });
});

describe('containerSpec', () => {
  it("runs the image's Cmd as its user, in its workdir, with merged env and ro volumes", () => {
    const spec = containerSpec('budgie', image, options);
    expect(spec.process.args).toEqual(['httpd', '-f']);
    expect(spec.process.user).toEqual({ uid: 1000, gid: 1000 });
    expect(spec.process.cwd).toBe('/www');
    expect(spec.process.env).toEqual(['PATH=/bin', 'GREETING=hi']);
    expect(spec.mounts).toContainEqual({
      destination: '/data',
      type: 'bind',
      source: '/srv/data',
      options: ['rbind', 'rprivate', 'nosuid', 'nodev', 'ro'],
    });
    expect(spec.linux.cgroupsPath).toBe(`/budgie/${ID}`);
  });

  it('gets its own UTS namespace, named by the short ID unless a hostname is given', () => {
    const spec = containerSpec('budgie', image, options);
    expect(spec.hostname).toBe(defaultHostname(ID));
    expect(spec.hostname).toBe('abababababab');
    expect(spec.linux.namespaces).toContainEqual({ type: 'uts' });
    expect(containerSpec('budgie', image, { ...options, hostname: 'web-1' }).hostname).toBe(
      'web-1',
    );
  });

  it('applies command, workdir, network namespace and extra mounts from the options', () => {
    const hosts = { destination: '/etc/hosts', type: 'bind', source: '/x/hosts', options: ['ro'] };
    const spec = containerSpec('budgie', image, {
      ...options,
      command: ['sleep', '5'],
      workdir: '/tmp',
      netnsPath: '/var/run/netns/web-1',
      extraMounts: [hosts],
    });
    expect(spec.process.args).toEqual(['sleep', '5']);
    expect(spec.process.cwd).toBe('/tmp');
    expect(spec.linux.namespaces).toContainEqual({
      type: 'network',
      path: '/var/run/netns/web-1',
    });
    expect(spec.mounts).toContainEqual(hosts);
  });
});
