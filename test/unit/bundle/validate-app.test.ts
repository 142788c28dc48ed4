import { validateApp, type App } from '../../../src/bundle';
import { InvalidInputError } from '../../../src/errors';

const good: App = {
  version: '1.0',
  name: 'webapp',
  image: { kind: 'registry', reference: 'nginx:alpine' },
  ports: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp' }],
  volumes: [{ source: '/srv/data', target: '/app/data', mode: 'rw' }],
  environment: [{ name: 'APP_ENV', value: 'production' }],
  healthcheck: { path: '/health', intervalMs: 30_000, timeoutMs: 5_000, retries: 3 },
  replicas: { min: 2, max: 5 },
  command: ['nginx'],
  restart: 'always',
  stopTimeoutMs: 10_000,
};

/** The good app as it crosses the wire, with one change. */
function sent(change: (app: Record<string, unknown>) => void): unknown {
  const copy: Record<string, unknown> = JSON.parse(JSON.stringify(good)) as Record<string, unknown>;
  change(copy);
  return copy;
}

function messageOf(value: unknown): string {
  try {
    validateApp(value);
  } catch (err) {
    if (err instanceof InvalidInputError) return err.message;
    throw err;
  }
  throw new Error('expected validateApp to throw');
}

describe('validateApp', () => {
  it('accepts a normalised app as it arrives in JSON', () => {
    expect(validateApp(JSON.parse(JSON.stringify(good)))).toEqual(good);
  });

  it('accepts an archive image with an absolute path', () => {
    const app = sent((a) => (a.image = { kind: 'archive', path: '/var/lib/x.tar' }));
    expect(validateApp(app).image).toEqual({ kind: 'archive', path: '/var/lib/x.tar' });
  });

  it.each<[string, (a: Record<string, unknown>) => void, string]>([
    [
      'a relative volume source',
      (a) => (a.volumes = [{ source: 'data', target: '/d', mode: 'rw' }]),
      'invalid app: volumes[0].source: expected an absolute path, got "data"',
    ],
    [
      'an unknown image kind',
      (a) => (a.image = { kind: 'ftp', path: '/x' }),
      'invalid app: image.kind: expected "registry" or "archive", got "ftp"',
    ],
    [
      'a relative archive path',
      (a) => (a.image = { kind: 'archive', path: 'x.tar' }),
      'invalid app: image.path: expected an absolute path, got "x.tar"',
    ],
    [
      'a duration in text',
      (a) => (a.stopTimeoutMs = '10s'),
      'invalid app: stopTimeoutMs: expected a whole number of milliseconds 1-86400000 (24h), got "10s"',
    ],
    [
      'a missing field',
      (a) => delete a.restart,
      'invalid app: restart: expected one of always, on-failure, never, got nothing (the field is required)',
    ],
    ['an extra field', (a) => (a.privileged = true), 'invalid app: privileged: unknown field'],
    [
      'min above max',
      (a) => (a.replicas = { min: 3, max: 2 }),
      'invalid app: replicas.max: must be at least min (3), got 2',
    ],
    [
      'a duplicate host port',
      (a) =>
        (a.ports = [
          { containerPort: 80, hostPort: 8080, protocol: 'tcp' },
          { containerPort: 81, hostPort: 8080, protocol: 'tcp' },
        ]),
      'invalid app: ports[1].hostPort: host port 8080/tcp is already published by ports[0]',
    ],
    [
      'a bad environment name',
      (a) => (a.environment = [{ name: '1X', value: '' }]),
      'invalid app: environment[0].name: expected a variable name ([A-Za-z_][A-Za-z0-9_]*), got "1X"',
    ],
  ])('refuses %s, naming the field', (_, change, expected) => {
    expect(messageOf(sent(change))).toContain(expected);
  });

  it('refuses what is not an object', () => {
    expect(messageOf([])).toBe('invalid app: expected a normalised app, got a list');
    expect(messageOf(null)).toBe('invalid app: expected a normalised app, got an empty value');
  });

  it('names every bad field at once, on one line', () => {
    const message = messageOf(sent((a) => ((a.name = 'Bad'), (a.ports = [{ containerPort: 0 }]))));
    expect(message).toBe(
      "invalid app: name: expected a DNS label (lowercase letters, digits and '-', at most 63, not " +
        'starting or ending with \'-\'), got "Bad" (try "bad"); ports[0].containerPort: expected an ' +
        'integer 1-65535, got 0; ports[0].hostPort: expected an integer 1-65535, got nothing (the ' +
        'field is required); ports[0].protocol: expected tcp or udp, got nothing (the field is required)',
    );
    expect(message).not.toContain('\n');
  });
});
