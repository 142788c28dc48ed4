import * as t from 'io-ts';
import type { App, ImageSource } from '../types';
import { decoder, expectedGot, type Dec } from './decoder';
import {
  absolutePath,
  dnsLabel,
  envName,
  imageReference,
  integerIn,
  milliseconds,
  oneOf,
  port,
  replicaCount,
  text,
  urlPath,
} from './leaves';
import { isPlainMapping, list, struct } from './struct';

const registryImage = struct(
  'a registry image',
  { kind: oneOf('registry'), reference: imageReference },
  {},
);
const archiveImage = struct('an archive image', { kind: oneOf('archive'), path: absolutePath }, {});

const IMAGE = 'a mapping with kind "registry" or "archive"';
/** Picks the branch by `kind`, so errors name the fields of that branch and not of both. */
const image: Dec<ImageSource> = decoder(IMAGE, (u, c) => {
  if (!isPlainMapping(u)) return t.failure(u, c, expectedGot(IMAGE, u));
  if (u.kind === 'registry') return registryImage.validate(u, c);
  if (u.kind === 'archive') return archiveImage.validate(u, c);
  const context = t.appendContext(c, 'kind', image, u.kind);
  return t.failure(u.kind, context, expectedGot('"registry" or "archive"', u.kind));
});

const argv = list('a list of strings', text);

/**
 * The normalised App exactly (every default filled, camelCase, milliseconds, absolute paths), for
 * the agent, which receives it as JSON and trusts nothing. The annotation makes TypeScript check
 * that what this decodes is assignable to App.
 */
export const app: Dec<App> = struct(
  'a normalised app',
  {
    version: oneOf('1.0'),
    name: dnsLabel,
    image,
    ports: list(
      'a list of port mappings',
      struct(
        'a port mapping',
        { containerPort: port, hostPort: port, protocol: oneOf('tcp', 'udp') },
        {},
      ),
    ),
    volumes: list(
      'a list of volumes',
      struct(
        'a volume',
        { source: absolutePath, target: absolutePath, mode: oneOf('rw', 'ro') },
        {},
      ),
    ),
    environment: list(
      'a list of variables',
      struct('a variable', { name: envName, value: text }, {}),
    ),
    replicas: struct('replicas', { min: replicaCount, max: replicaCount }, {}),
    restart: oneOf('always', 'on-failure', 'never'),
    stopTimeoutMs: milliseconds,
  },
  {
    healthcheck: struct(
      'a healthcheck',
      {
        path: urlPath,
        intervalMs: milliseconds,
        timeoutMs: milliseconds,
        retries: integerIn(1, 100),
      },
      {},
    ),
    command: argv,
    entrypoint: argv,
    workdir: absolutePath,
    hostname: dnsLabel,
  },
);
