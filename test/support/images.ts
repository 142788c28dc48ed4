import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  writeDockerSaveTar,
  writeOciLayoutDir,
  writeOciLayoutTar,
} from '../../src/tools/imagebuild/archives';
import { busyboxHttpdImage } from '../../src/tools/imagebuild/busybox';
import { buildImage, buildIndex } from '../../src/tools/imagebuild/image';

/** Paths to the busybox-httpd test image in every form Budgie reads; layouts name it "latest". */
export interface TestImages {
  /** OCI layout directory, one manifest for this machine's platform. */
  busyboxLayoutDir: string;
  /** The same layout as a tar. */
  busyboxOciTar: string;
  /** `docker save` form, tagged busybox-httpd:latest. */
  busyboxDockerTar: string;
  /** OCI layout whose "latest" is an index of linux/amd64 and linux/arm64 manifests. */
  multiPlatformLayoutDir: string;
  /** Digest of the single-platform manifest (also the amd64 entry of the index on amd64 hosts). */
  busyboxManifestDigest: string;
  /** Digest of the multi-platform index. */
  multiPlatformIndexDigest: string;
}

export const BUSYBOX_DOCKER_TAG = 'busybox-httpd:latest';
export const MULTI_PLATFORMS = [
  { architecture: 'amd64', os: 'linux' },
  { architecture: 'arm64', os: 'linux' },
] as const;

const REPO = join(__dirname, '..', '..');
const CACHE = join(REPO, '.tmp', 'test-images');
const MANIFEST = 'images.json';

let built: Promise<TestImages> | undefined;

/**
 * Builds the test images once into .tmp/test-images/<key>, where the key hashes the image builder's
 * sources and the busybox binary: later test files (and later runs) reuse them until either
 * changes. The build goes to a private dir renamed into place, so parallel workers never collide.
 */
export function testImages(): Promise<TestImages> {
  built ??= cachedOrBuilt();
  return built;
}

async function cachedOrBuilt(): Promise<TestImages> {
  const key = await cacheKey();
  await pruneOtherKeys(key);
  const dir = join(CACHE, key);
  const cached = await readFile(join(dir, MANIFEST), 'utf8').catch(() => undefined);
  if (cached !== undefined) return paths(dir, digestsOf(cached));
  const temp = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await mkdir(temp, { recursive: true });
  try {
    const digests = await buildInto(temp);
    await writeFile(join(temp, MANIFEST), JSON.stringify(digests));
    await rename(temp, dir).catch(async (err: unknown) => {
      // Another worker finished first: its bytes are the same as ours.
      if (!(await exists(join(dir, MANIFEST)))) throw err;
    });
    return paths(dir, digests);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

interface Digests {
  busyboxManifestDigest: string;
  multiPlatformIndexDigest: string;
}

async function buildInto(dir: string): Promise<Digests> {
  const p = paths(dir, { busyboxManifestDigest: '', multiPlatformIndexDigest: '' });
  const busybox = buildImage(await busyboxHttpdImage());
  await writeOciLayoutDir(p.busyboxLayoutDir, busybox);
  await writeOciLayoutTar(p.busyboxOciTar, busybox);
  await writeDockerSaveTar(p.busyboxDockerTar, busybox, [BUSYBOX_DOCKER_TAG]);
  const variants = await Promise.all(
    MULTI_PLATFORMS.map(async (platform) => buildImage(await busyboxHttpdImage({ platform }))),
  );
  const index = buildIndex(variants);
  await writeOciLayoutDir(p.multiPlatformLayoutDir, index);
  return {
    busyboxManifestDigest: busybox.manifest.digest,
    multiPlatformIndexDigest: index.root.digest,
  };
}

function paths(dir: string, digests: Digests): TestImages {
  return {
    busyboxLayoutDir: join(dir, 'busybox-httpd'),
    busyboxOciTar: join(dir, 'busybox-httpd.tar'),
    busyboxDockerTar: join(dir, 'busybox-httpd-docker.tar'),
    multiPlatformLayoutDir: join(dir, 'busybox-httpd-multi'),
    ...digests,
  };
}

function digestsOf(json: string): Digests {
  const value: unknown = JSON.parse(json);
  if (
    typeof value === 'object' &&
    value !== null &&
    'busyboxManifestDigest' in value &&
    'multiPlatformIndexDigest' in value &&
    typeof value.busyboxManifestDigest === 'string' &&
    typeof value.multiPlatformIndexDigest === 'string'
  ) {
    return {
      busyboxManifestDigest: value.busyboxManifestDigest,
      multiPlatformIndexDigest: value.multiPlatformIndexDigest,
    };
  }
  throw new Error(`${CACHE}: unreadable ${MANIFEST}; delete the directory`);
}

async function cacheKey(): Promise<string> {
  const hash = createHash('sha256');
  const sources = join(REPO, 'src', 'tools', 'imagebuild');
  for (const name of (await readdir(sources)).sort()) {
    hash.update(name).update(await readFile(join(sources, name)));
  }
  hash.update(await readFile(__filename));
  const busybox = await stat('/bin/busybox');
  hash.update(`${busybox.size}:${busybox.mtimeMs}`);
  return hash.digest('hex').slice(0, 16);
}

/** Builds for older sources are never read again; a build in progress for this key is kept. */
async function pruneOtherKeys(key: string): Promise<void> {
  const names = await readdir(CACHE).catch(() => []);
  for (const name of names) {
    if (!name.startsWith(key)) await rm(join(CACHE, name), { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
