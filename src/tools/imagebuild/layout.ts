import { InvalidInputError } from '../../errors';
import { MEDIA_TYPES } from '../../oci/image-codecs';
import { digestHex, descriptorOf, type Artifact, type Blob } from './blob';
import type { BuiltImage } from './image';
import type { OutputFile } from './output';

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

/** An artifact and the name index.json gives it: a bare tag ("latest") by OCI convention. */
export interface LayoutEntry {
  refName: string;
  artifact: Artifact;
}

/**
 * The files of an OCI image layout: `oci-layout`, `index.json` naming each entry, and every blob
 * once under `blobs/sha256/`, in digest order so the layout's bytes depend only on its content.
 */
export function ociLayoutFiles(entries: readonly LayoutEntry[]): OutputFile[] {
  const names = new Set<string>();
  const blobs = new Map<string, Blob>();
  for (const { refName, artifact } of entries) {
    if (names.has(refName)) throw new InvalidInputError(`layout names "${refName}" twice`);
    names.add(refName);
    for (const blob of artifact.blobs) blobs.set(blob.digest, blob);
  }
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: entries.map(({ refName, artifact }) =>
      descriptorOf(artifact.root, {
        ...(artifact.platform === undefined ? {} : { platform: artifact.platform }),
        annotations: { [REF_NAME_ANNOTATION]: refName },
      }),
    ),
  };
  const sorted = [...blobs.values()].sort((a, b) => (a.digest < b.digest ? -1 : 1));
  return [
    { path: 'oci-layout', bytes: Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })) },
    { path: 'index.json', bytes: Buffer.from(JSON.stringify(index)) },
    ...sorted.map((b) => ({ path: `blobs/sha256/${digestHex(b.digest)}`, bytes: b.bytes })),
  ];
}

/**
 * The files of a `docker save` archive: per layer `<diff_id hex>/layer.tar` (uncompressed, as
 * Docker writes them), `<config hex>.json`, `manifest.json` and the legacy `repositories` map.
 */
export function dockerSaveFiles(image: BuiltImage, repoTags: readonly string[]): OutputFile[] {
  const layerDirs = image.layerTars.map((tar) => digestHex(tar.digest));
  const configName = `${digestHex(image.config.digest)}.json`;
  const manifest = [
    { Config: configName, RepoTags: repoTags, Layers: layerDirs.map((d) => `${d}/layer.tar`) },
  ];
  const top = layerDirs[layerDirs.length - 1];
  const repositories: Record<string, Record<string, string>> = {};
  for (const tag of repoTags) {
    const { repo, tagName } = splitTag(tag);
    if (top !== undefined) (repositories[repo] ??= {})[tagName] = top;
  }
  return [
    ...image.layerTars.map((tar) => ({
      path: `${digestHex(tar.digest)}/layer.tar`,
      bytes: tar.bytes,
    })),
    { path: configName, bytes: image.config.bytes },
    { path: 'manifest.json', bytes: Buffer.from(JSON.stringify(manifest)) },
    { path: 'repositories', bytes: Buffer.from(JSON.stringify(repositories)) },
  ];
}

function splitTag(repoTag: string): { repo: string; tagName: string } {
  const colon = repoTag.lastIndexOf(':');
  // A colon before the last slash belongs to a registry port, not a tag.
  if (colon === -1 || colon < repoTag.lastIndexOf('/')) {
    throw new InvalidInputError(`"${repoTag}" needs a tag (name:tag) in a docker save archive`);
  }
  return { repo: repoTag.slice(0, colon), tagName: repoTag.slice(colon + 1) };
}
