import { problemsOf } from './fixtures';

const DNS =
  "a DNS label (lowercase letters, digits and '-', at most 63, not starting or ending with '-')";
const PORT = 'an integer 1-65535';
const DURATION = 'a duration like "30s", "500ms" or "1m30s"';
const REQUIRED = 'nothing (the field is required)';
const ENV_NAME_RULE = 'names are letters, digits and "_", not starting with a digit';

/** Each fixture under test/fixtures/bundles/invalid with every line `validate` must print for it. */
const CASES: [string, string[]][] = [
  [
    'missing-required.bun',
    [
      // Missing fields point at the mapping that should hold them (line 1 is a comment).
      `missing-required.bun:2:1: version: expected "1.0", got ${REQUIRED}`,
      `missing-required.bun:2:1: image: expected a mapping with docker_image or oci_archive, got ${REQUIRED}`,
    ],
  ],
  [
    'bad-scalars.bun',
    [
      'bad-scalars.bun:1:10: version: expected "1.0", got 1 (quote it: version: "1.0")',
      `bad-scalars.bun:2:7: name: expected ${DNS}, got "Web_App" (try "web-app")`,
    ],
  ],
  [
    'bad-ports.bun',
    [
      `bad-ports.bun:7:16: ports[0].host_port: expected ${PORT}, got "80a"`,
      `bad-ports.bun:8:21: ports[1].container_port: expected ${PORT}, got 0`,
      `bad-ports.bun:9:16: ports[1].host_port: expected ${PORT}, got 70000`,
      'bad-ports.bun:10:15: ports[1].protocol: expected tcp or udp, got "sctp"',
      `bad-ports.bun:11:5: ports[2].container_port: expected ${PORT}, got ${REQUIRED}`,
      'bad-ports.bun:12:5: ports[3]: expected a mapping with container_port and host_port, got "8080:80"',
    ],
  ],
  [
    'duplicate-host-port.bun',
    // 8080/udp is a different socket; the second 8080/tcp is the mistake.
    [
      'duplicate-host-port.bun:12:16: ports[2].host_port: host port 8080/tcp is already published by ports[0]',
    ],
  ],
  [
    'bad-volumes.bun',
    [
      'bad-volumes.bun:7:13: volumes[0].target: expected an absolute path, got "app/data"',
      'bad-volumes.bun:8:11: volumes[0].mode: expected rw or ro, got "rx"',
      `bad-volumes.bun:9:5: volumes[1].source: expected a non-empty string, got ${REQUIRED}`,
      'bad-volumes.bun:10:13: volumes[2].source: expected a non-empty string, got ""',
    ],
  ],
  [
    'duplicate-volume-target.bun',
    ['duplicate-volume-target.bun:9:13: volumes[1].target: /data is already mounted by volumes[0]'],
  ],
  [
    'bad-environment-list.bun',
    [
      'bad-environment-list.bun:7:5: environment[1]: expected KEY=value, got "NO_EQUALS" (write NO_EQUALS= for an empty value)',
      `bad-environment-list.bun:8:5: environment[2]: expected KEY=value, got "1BAD=x" (${ENV_NAME_RULE})`,
      'bad-environment-list.bun:9:5: environment[3]: expected KEY=value, got 5',
      `bad-environment-list.bun:10:5: environment[4]: expected KEY=value, got "=empty-name" (${ENV_NAME_RULE})`,
    ],
  ],
  [
    'bad-environment-map.bun',
    [
      `bad-environment-map.bun:7:3: environment.BAD-NAME: not a variable name (${ENV_NAME_RULE})`,
      'bad-environment-map.bun:9:5: environment.NESTED: expected a single value, got a mapping',
    ],
  ],
  [
    'bad-healthcheck.bun',
    [
      'bad-healthcheck.bun:6:9: healthcheck.path: expected a path starting with "/", got "health"',
      `bad-healthcheck.bun:7:13: healthcheck.interval: expected ${DURATION}, got "0s" (must be at least 1ms)`,
      `bad-healthcheck.bun:8:12: healthcheck.timeout: expected ${DURATION}, got 5 (add a unit, e.g. "5s")`,
      'bad-healthcheck.bun:9:12: healthcheck.retries: expected an integer 1-100, got 0',
    ],
  ],
  [
    'timeout-exceeds-interval.bun',
    [
      'timeout-exceeds-interval.bun:8:12: healthcheck.timeout: must not exceed interval (5s), got 10s',
    ],
  ],
  [
    'bad-replicas.bun',
    [
      'bad-replicas.bun:6:8: replicas.min: expected an integer 1-100, got 0',
      'bad-replicas.bun:7:8: replicas.max: expected an integer 1-100, got 1000',
    ],
  ],
  ['min-above-max.bun', ['min-above-max.bun:7:8: replicas.max: must be at least min (3), got 2']],
  [
    'unknown-keys.bun',
    [
      'unknown-keys.bun:4:3: image.docker_imag: unknown field (did you mean "docker_image"?)',
      'unknown-keys.bun:6:5: ports[0].containerPort: unknown field (did you mean "container_port"?)',
      `unknown-keys.bun:6:5: ports[0].container_port: expected ${PORT}, got ${REQUIRED}`,
      'unknown-keys.bun:8:1: replica: unknown field (did you mean "replicas"?)',
      'unknown-keys.bun:10:1: frobnicate: unknown field (expected one of version, name, image, ports, ' +
        'volumes, environment, healthcheck, replicas, command, entrypoint, workdir, hostname, restart, stop_timeout)',
    ],
  ],
  [
    'image-both.bun',
    ['image-both.bun:4:3: image: expected exactly one of docker_image or oci_archive, got both'],
  ],
  [
    'image-neither.bun',
    ['image-neither.bun:3:8: image: expected one of docker_image or oci_archive, got neither'],
  ],
  [
    'bad-image-reference.bun',
    [
      'bad-image-reference.bun:4:17: image.docker_image: expected an image reference like "nginx:alpine" or ' +
        '"registry:5000/team/app:1.2", got "nginx@sha256:abc" (a sha256 digest is 64 lowercase hex digits)',
    ],
  ],
  [
    'bad-extras.bun',
    [
      `bad-extras.bun:5:10: command: expected a list of strings, got "nginx -g 'daemon off;'" (write it as a list, e.g. command: ["sh", "-c", "…"])`,
      'bad-extras.bun:6:21: entrypoint[1]: expected a string, got 10 (quote it: "10")',
      'bad-extras.bun:7:10: workdir: expected an absolute path, got "app"',
      `bad-extras.bun:8:11: hostname: expected ${DNS}, got "-bad-"`,
      'bad-extras.bun:9:10: restart: expected one of always, on-failure, never, got "sometimes"',
      `bad-extras.bun:10:15: stop_timeout: expected ${DURATION}, got 10 (add a unit, e.g. "10s")`,
    ],
  ],
  [
    'duplicate-keys.bun',
    [
      'duplicate-keys.bun:5:1: name: duplicate key (first defined at line 2, column 1)',
      'duplicate-keys.bun:8:3: replicas.min: duplicate key (first defined at line 7, column 3)',
    ],
  ],
  [
    'alias.bun',
    [
      'alias.bun:5:14: healthcheck: aliases (*img) are not supported; write the value out',
      // Only the first alias gets a message, but an unknown key is still news.
      'alias.bun:6:1: imagee: unknown field (did you mean "image"?)',
    ],
  ],
  [
    'syntax-error.bun',
    [
      'syntax-error.bun:5:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
  ],
  [
    'not-a-mapping.bun',
    ['not-a-mapping.bun:1:1: expected a mapping with version, name and image, got a list'],
  ],
  [
    'empty.bun',
    ['empty.bun:1:1: the file is empty; expected a mapping with version, name and image'],
  ],
  [
    'multiple-documents.bun',
    [
      'multiple-documents.bun:5:1: invalid YAML: a .bun file holds one document; remove the second "---"',
    ],
  ],
  ['nul-byte.bun', ['nul-byte.bun:2:10: not a text file (control byte 0x00)']],
  ['invalid-utf8.bun', ['invalid-utf8.bun:2:10: not a text file (invalid UTF-8)']],
];

describe('invalid .bun files', () => {
  it.each(CASES)('%s: every problem, placed and named', async (name, expected) => {
    expect(await problemsOf(name)).toEqual(expected);
  });
});
