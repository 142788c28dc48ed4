import { isLeft } from 'fp-ts/Either';
import * as t from 'io-ts';
import { environment } from './environment';
import {
  absolutePath,
  dnsLabel,
  duration,
  imageReference,
  integerIn,
  nonEmptyText,
  oneOf,
  port,
  replicaCount,
  text,
  urlPath,
} from './leaves';
import { decoder, leaf, Reject, type Dec } from './decoder';
import { list, struct } from './struct';

/**
 * Only `"1.0"` is a version. The YAML number 1.0 (written without quotes) is refused with a hint
 * to quote it rather than accepted, so that a later "1.10" can never be silently read as 1.1.
 */
const version = leaf('"1.0"', (u) =>
  u === '1.0'
    ? ('1.0' as const)
    : new Reject(typeof u === 'number' ? 'quote it: version: "1.0"' : undefined),
);

/** Compose also takes a shell string here; Budgie runs no shell, so ask for the list form. */
function argv(field: string): Dec<string[]> {
  return list('a list of strings', text, (u) =>
    typeof u === 'string' ? `write it as a list, e.g. ${field}: ["sh", "-c", "…"]` : undefined,
  );
}

const imageFields = struct(
  'a mapping with docker_image or oci_archive',
  {},
  { docker_image: imageReference, oci_archive: nonEmptyText },
);

/** The image as written: a registry reference, or an archive path still relative to the file. */
export type BunImage = { kind: 'registry'; reference: string } | { kind: 'archive'; file: string };

/** Exactly one of the two fields; checked here so that it is reported with everything else. */
const image: Dec<BunImage> = decoder(imageFields.name, (u, c) => {
  const fields = imageFields.validate(u, c);
  if (isLeft(fields)) return fields;
  const { docker_image: reference, oci_archive: file } = fields.right;
  if (reference !== undefined && file !== undefined) {
    return t.failure(u, c, 'expected exactly one of docker_image or oci_archive, got both');
  }
  if (reference !== undefined) return t.success({ kind: 'registry', reference });
  if (file !== undefined) return t.success({ kind: 'archive', file });
  return t.failure(u, c, 'expected one of docker_image or oci_archive, got neither');
});

const portMapping = struct(
  'a mapping with container_port and host_port',
  { container_port: port, host_port: port },
  { protocol: oneOf('tcp', 'udp') },
);

const volume = struct(
  'a mapping with source and target',
  { source: nonEmptyText, target: absolutePath },
  { mode: oneOf('rw', 'ro') },
);

const healthcheck = struct(
  'a mapping with path (and interval, timeout, retries)',
  { path: urlPath },
  { interval: duration, timeout: duration, retries: integerIn(1, 100) },
);

const replicas = struct(
  'a mapping with min and/or max',
  {},
  { min: replicaCount, max: replicaCount },
);

/**
 * The .bun file as written (snake_case keys; durations already in milliseconds), before defaults
 * and the checks that span several fields.
 */
export const bunFile = struct(
  'a mapping with version, name and image',
  { version, name: dnsLabel, image },
  {
    ports: list('a list of port mappings', portMapping),
    volumes: list('a list of volumes', volume),
    environment,
    healthcheck,
    replicas,
    command: argv('command'),
    entrypoint: argv('entrypoint'),
    workdir: absolutePath,
    hostname: dnsLabel,
    restart: oneOf('always', 'on-failure', 'never'),
    stop_timeout: duration,
  },
);

export type BunFile = typeof bunFile extends Dec<infer A> ? A : never;
