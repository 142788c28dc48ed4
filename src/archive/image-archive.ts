import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import * as t from 'io-ts';
import { InvalidInputError } from '../errors';
import { decodeJson, Index, MEDIA_TYPES, type Descriptor } from '../oci/image-codecs';
import { openArchiveFiles, type ArchiveFiles } from './archive-files';

/** One named image in an archive; `target` is its manifest or index. */
export interface ArchiveImage {
  name: string;
  target: Descriptor;
}

/**
 * The images of an OCI layout (dir or tar) or a `docker save` tar, and their blobs by digest.
 * A docker save archive has no manifests: Budgie writes Docker schema 2 manifests for it (the
 * documents live in memory), as `ctr images import` does.
 */
export interface ImageArchive {
  images: ArchiveImage[];
  has(digest: string): boolean;
  read(digest: string): Promise<Buffer>;
  stream(digest: string): Readable;
}

const DockerSave = t.array(
  t.intersection([
    t.type({ Config: t.string, Layers: t.array(t.string) }),
    t.partial({ RepoTags: t.union([t.array(t.string), t.null]) }),
  ]),
);

const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';

export async function openImageArchive(path: string): Promise<ImageArchive> {
  const files = await openArchiveFiles(path);
  if (files.has('index.json')) return ociLayout(path, files);
  if (files.has('manifest.json')) return dockerSave(path, files);
  throw new InvalidInputError(
    `${path}: not an OCI layout or a docker save archive (no index.json or manifest.json)`,
  );
}

function blobPath(digest: string): string {
  const [alg, hex] = digest.split(':');
  if (
    alg === undefined ||
    hex === undefined ||
    !/^[a-z0-9]+$/.test(alg) ||
    !/^[a-f0-9]+$/.test(hex)
  ) {
    throw new InvalidInputError(`invalid digest ${digest}`);
  }
  return `blobs/${alg}/${hex}`;
}

async function ociLayout(path: string, files: ArchiveFiles): Promise<ImageArchive> {
  const index = decodeJson(Index, await files.read('index.json'), `${path}: index.json`);
  const fallback = defaultName(path);
  const images = index.manifests.map((target) => ({
    name: imageName(
      target.annotations?.[CONTAINERD_NAME] ?? target.annotations?.[REF_NAME],
      fallback,
    ),
    target,
  }));
  return {
    images,
    has: (digest) => files.has(blobPath(digest)),
    read: (digest) => files.read(blobPath(digest)),
    stream: (digest) => files.stream(blobPath(digest)),
  };
}

async function dockerSave(path: string, files: ArchiveFiles): Promise<ImageArchive> {
  const entries = decodeJson(
    DockerSave,
    await files.read('manifest.json'),
    `${path}: manifest.json`,
  );
  const byDigest = new Map<string, { file: string } | { bytes: Buffer }>();
  const images: ArchiveImage[] = [];
  for (const entry of entries) {
    const config = {
      mediaType: MEDIA_TYPES.dockerConfig,
      ...(await hashFile(files, entry.Config)),
    };
    byDigest.set(config.digest, { file: entry.Config });
    const layers: Descriptor[] = [];
    for (const layer of entry.Layers) {
      const { gzip, ...blob } = await hashFile(files, layer);
      // docker save writes layers uncompressed; some tools write gzip.
      const mediaType = gzip ? MEDIA_TYPES.dockerLayerGzip : MEDIA_TYPES.dockerLayer;
      byDigest.set(blob.digest, { file: layer });
      layers.push({ mediaType, ...blob });
    }
    const manifest = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifest, config, layers }),
    );
    const target = {
      mediaType: MEDIA_TYPES.dockerManifest,
      digest: sha256(manifest),
      size: manifest.length,
    };
    byDigest.set(target.digest, { bytes: manifest });
    const tags = entry.RepoTags ?? [];
    const names = tags.length > 0 ? tags : [defaultName(path)];
    for (const name of names) images.push({ name: imageName(name, defaultName(path)), target });
  }
  const source = (digest: string) => {
    const s = byDigest.get(digest);
    if (s === undefined) throw new InvalidInputError(`${path}: no blob ${digest} in the archive`);
    return s;
  };
  return {
    images,
    has: (digest) => byDigest.has(digest),
    read: async (digest) => {
      const s = source(digest);
      return 'bytes' in s ? s.bytes : files.read(s.file);
    },
    stream: (digest) => {
      const s = source(digest);
      if ('bytes' in s) throw new InvalidInputError(`${digest} is a document; read it whole`);
      return files.stream(s.file);
    },
  };
}

async function hashFile(
  files: ArchiveFiles,
  name: string,
): Promise<{ digest: string; size: number; gzip: boolean }> {
  const hash = createHash('sha256');
  let head: Buffer | undefined;
  for await (const chunk of files.stream(name)) {
    const buf = chunk as Buffer;
    head ??= buf;
    hash.update(buf);
  }
  const gzip = head !== undefined && head[0] === 0x1f && head[1] === 0x8b;
  return { digest: `sha256:${hash.digest('hex')}`, size: files.size(name), gzip };
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** `busybox-httpd.tar` → `localhost/busybox-httpd`: a name for archives that carry none. */
function defaultName(path: string): string {
  const base = basename(path)
    .replace(/\.(tar|tar\.gz|tgz|oci)$/, '')
    .toLowerCase();
  return `localhost/${base.replace(/[^a-z0-9._-]/g, '-') || 'image'}`;
}

/**
 * Names in archives may be full references, or bare tags ("latest", "1.0") as OCI layouts often
 * carry; a bare tag gets the archive's default name.
 */
function imageName(annotated: string | undefined, fallback: string): string {
  if (annotated === undefined || annotated === '') return `${fallback}:latest`;
  if (/^[\w][\w.-]{0,127}$/.test(annotated)) return `${fallback}:${annotated}`;
  return annotated;
}
