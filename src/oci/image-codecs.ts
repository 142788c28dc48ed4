import * as t from 'io-ts';
import { isRight } from 'fp-ts/Either';
import { InvalidInputError } from '../errors';

/**
 * io-ts codecs for the OCI image-spec documents Budgie reads from untrusted places (archives,
 * registries, peers), and the one function that decodes them with a clear error.
 */
export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export const isIndexType = (mediaType: string): boolean =>
  mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerManifestList;

export const Platform = t.intersection([
  t.type({ architecture: t.string, os: t.string }),
  t.partial({ variant: t.string }),
]);
export type Platform = t.TypeOf<typeof Platform>;

export const Descriptor = t.intersection([
  t.type({ mediaType: t.string, digest: t.string, size: t.number }),
  t.partial({ annotations: t.record(t.string, t.string), platform: Platform }),
]);
export type Descriptor = t.TypeOf<typeof Descriptor>;

export const Manifest = t.intersection([
  t.type({ schemaVersion: t.literal(2), config: Descriptor, layers: t.array(Descriptor) }),
  t.partial({ mediaType: t.string }),
]);
export type Manifest = t.TypeOf<typeof Manifest>;

export const Index = t.intersection([
  t.type({ schemaVersion: t.literal(2), manifests: t.array(Descriptor) }),
  t.partial({ mediaType: t.string }),
]);
export type Index = t.TypeOf<typeof Index>;

const nullable = <C extends t.Mixed>(c: C) => t.union([c, t.null]);

export const ImageConfig = t.intersection([
  t.type({ rootfs: t.type({ type: t.string, diff_ids: t.array(t.string) }) }),
  t.partial({
    architecture: t.string,
    os: t.string,
    variant: t.string,
    created: t.string,
    config: t.partial({
      Entrypoint: nullable(t.array(t.string)),
      Cmd: nullable(t.array(t.string)),
      Env: nullable(t.array(t.string)),
      WorkingDir: t.string,
      User: t.string,
      ExposedPorts: nullable(t.record(t.string, t.unknown)),
      Labels: nullable(t.record(t.string, t.string)),
    }),
  }),
]);
export type ImageConfig = t.TypeOf<typeof ImageConfig>;

/** Parses and checks a JSON document; `what` names it in the error ("manifest sha256:…"). */
export function decodeJson<A>(codec: t.Type<A, unknown>, bytes: Buffer | string, what: string): A {
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch {
    throw new InvalidInputError(`${what}: not valid JSON`);
  }
  const result = codec.decode(value);
  if (isRight(result)) return result.right;
  const first = result.left[0];
  // Intersection members appear as numeric keys too; the named keys are what a person can find.
  const path = first?.context
    .map((c) => c.key)
    .filter((k) => k !== '' && !/^\d+$/.test(k))
    .join('.');
  throw new InvalidInputError(`${what}: unexpected document${path ? ` (at ${path})` : ''}`);
}
