import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadBundle, parseBundle, type App } from '../../../src/bundle';
import { FIXTURES } from './fixtures';

const REPO = resolve(__dirname, '../../..');
const valid = (name: string): Promise<App> => loadBundle(join(FIXTURES, 'valid', name));

describe('valid .bun files', () => {
  it('normalises the seed example (bundles/webapp.bun)', async () => {
    expect(await loadBundle(join(REPO, 'bundles/webapp.bun'))).toEqual({
      version: '1.0',
      name: 'webapp',
      image: { kind: 'registry', reference: 'nginx:alpine' },
      ports: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp' }],
      volumes: [{ source: join(REPO, 'bundles/data'), target: '/app/data', mode: 'rw' }],
      environment: [{ name: 'APP_ENV', value: 'production' }],
      healthcheck: { path: '/health', intervalMs: 30_000, timeoutMs: 5_000, retries: 3 },
      replicas: { min: 2, max: 5 },
      restart: 'always',
      stopTimeoutMs: 10_000,
    });
  });

  it('reads the demo app (bundles/hello.bun) with its archive next to it', async () => {
    const app = await loadBundle(join(REPO, 'bundles/hello.bun'));
    expect(app.image).toEqual({
      kind: 'archive',
      path: join(REPO, 'bundles/images/busybox-httpd.tar'),
    });
    expect(app.ports).toEqual([{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }]);
    expect(app.healthcheck).toEqual({
      path: '/health',
      intervalMs: 2000,
      timeoutMs: 1000,
      retries: 3,
    });
    expect(app.replicas).toEqual({ min: 2, max: 4 });
    expect(app.environment).toEqual([{ name: 'GREETING', value: 'hello' }]);
  });

  it('fills every default for a minimal file', async () => {
    expect(await valid('minimal.bun')).toEqual({
      version: '1.0',
      name: 'minimal',
      image: { kind: 'registry', reference: 'busybox' },
      ports: [],
      volumes: [],
      environment: [],
      replicas: { min: 1, max: 1 },
      restart: 'always',
      stopTimeoutMs: 10_000,
    });
  });

  it('takes environment as a map, keeping values as written', async () => {
    expect((await valid('env-map.bun')).environment).toEqual([
      { name: 'APP_ENV', value: 'production' },
      { name: 'VERSION', value: '1.10' },
      { name: 'DEBUG', value: 'true' },
      { name: 'EMPTY', value: '' },
      { name: 'QUOTED', value: '' },
      { name: 'EQUALS', value: 'a=b=c' },
      { name: '_under', value: 'x' },
    ]);
  });

  it('reads every optional field', async () => {
    const dir = join(FIXTURES, 'valid');
    expect(await valid('full.bun')).toEqual({
      version: '1.0',
      name: 'full-app-2',
      image: { kind: 'archive', path: join(FIXTURES, 'images/app.tar') },
      ports: [
        { containerPort: 53, hostPort: 5353, protocol: 'udp' },
        { containerPort: 53, hostPort: 5353, protocol: 'tcp' },
        { containerPort: 80, hostPort: 8080, protocol: 'tcp' },
      ],
      volumes: [
        { source: '/srv/shared', target: '/shared', mode: 'ro' },
        { source: join(dir, 'data'), target: '/data', mode: 'rw' },
      ],
      environment: [
        { name: 'EMPTY', value: '' },
        { name: 'WITH_EQUALS', value: 'a=b' },
        { name: 'EMPTY', value: 'later wins' },
      ],
      healthcheck: { path: '/healthz?full=1', intervalMs: 90_000, timeoutMs: 5_000, retries: 1 },
      replicas: { min: 3, max: 3 },
      command: ['httpd', '-f', '-p', '80'],
      entrypoint: ['/bin/busybox'],
      workdir: '/www',
      hostname: 'web-1',
      restart: 'on-failure',
      stopTimeoutMs: 500,
    });
  });

  it('resolves relative paths against the folder of the file name it is given', () => {
    const text = readFileSync(join(FIXTURES, 'valid/full.bun'), 'utf8');
    const app = parseBundle(text, 'some/where/app.bun');
    expect(app.image).toEqual({ kind: 'archive', path: resolve('some/images/app.tar') });
    expect(app.volumes[1]?.source).toBe(resolve('some/where/data'));
  });

  it.each([
    [
      'interval shorter than the default timeout',
      'interval: 2s',
      { intervalMs: 2000, timeoutMs: 2000 },
    ],
    ['only a path', '', { intervalMs: 30_000, timeoutMs: 5_000 }],
  ])('defaults the healthcheck timeout to fit the interval (%s)', (_, extra, expected) => {
    const text = `version: "1.0"\nname: a\nimage: {docker_image: a}\nhealthcheck:\n  path: /\n  ${extra}\n`;
    expect(parseBundle(text, 'a.bun').healthcheck).toMatchObject({ ...expected, retries: 3 });
  });

  it.each([
    ['min only', 'min: 3', { min: 3, max: 3 }],
    ['max only', 'max: 4', { min: 1, max: 4 }],
    ['both', 'min: 2\n  max: 5', { min: 2, max: 5 }],
  ])('defaults replicas (%s)', (_, body, expected) => {
    const text = `version: "1.0"\nname: a\nimage: {docker_image: a}\nreplicas:\n  ${body}\n`;
    expect(parseBundle(text, 'a.bun').replicas).toEqual(expected);
  });

  it('accepts a byte-order mark and CRLF line ends', () => {
    const text = '\uFEFFversion: "1.0"\r\nname: crlf\r\nimage:\r\n  docker_image: a\r\n';
    expect(parseBundle(text, 'a.bun').name).toBe('crlf');
  });
});
