/**
 * What the image benchmarks share: every pull goes into a fresh namespace of a private containerd,
 * is checked to have done the whole job, and is collected before the next one (checked on disk).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerdClient } from '../src/containerd/client';

export const SNAPSHOTTER = 'overlayfs';

export interface Sizes {
  /** Manifest, config and layers as the registry serves them (layers gzipped). */
  bytes: number;
  layers: number;
}

/** Both sides must have done the whole job: one committed snapshot per layer. */
export async function checkUnpacked(
  client: ContainerdClient,
  side: string,
  layers: number,
): Promise<void> {
  const snapshots = await client.snapshots.list(SNAPSHOTTER);
  if (snapshots.length !== layers) {
    throw new Error(`${side} left ${snapshots.length} ${SNAPSHOTTER} snapshots, not ${layers}`);
  }
  if ((await client.images.list()).length !== 1) throw new Error(`${side} left no image record`);
}

/** Deletes the namespace's leases and images and lets containerd collect the rest right away. */
export async function collect(client: ContainerdClient): Promise<void> {
  for (const lease of await client.leases.list()) {
    await client.leases.delete(lease.id, { sync: true });
  }
  for (const image of await client.images.list()) {
    await client.images.delete(image.name, { sync: true });
  }
  const content = await client.content.list();
  const snapshots = await client.snapshots.list(SNAPSHOTTER);
  if (content.length > 0 || snapshots.length > 0) {
    throw new Error(`not collected: ${content.length} blobs, ${snapshots.length} snapshots`);
  }
  await client.namespaces.delete(client.namespace);
}

/** containerd shares blobs across namespaces: none may be left on disk for the next pull. */
export async function checkEmpty(root: string): Promise<void> {
  const dirs = [
    join(root, 'root', 'io.containerd.content.v1.content', 'blobs', 'sha256'),
    join(root, 'root', `io.containerd.snapshotter.v1.${SNAPSHOTTER}`, 'snapshots'),
  ];
  for (const dir of dirs) {
    const left = await readdir(dir).catch(() => []);
    if (left.length > 0) throw new Error(`${dir} still holds ${left.length} entries`);
  }
}

export async function sizesOf(layoutDir: string): Promise<Sizes> {
  const blob = async (digest: string): Promise<Buffer> =>
    readFile(join(layoutDir, 'blobs', ...digest.split(':')));
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as {
    manifests: { digest: string; size: number }[];
  };
  const entry = index.manifests[0];
  if (entry === undefined) throw new Error(`${layoutDir}: empty index`);
  const manifest = JSON.parse((await blob(entry.digest)).toString()) as {
    config: { size: number };
    layers: { size: number }[];
  };
  const layerBytes = manifest.layers.reduce((sum, l) => sum + l.size, 0);
  return { bytes: entry.size + manifest.config.size + layerBytes, layers: manifest.layers.length };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

export function list(values: readonly number[]): string {
  return values.map((v) => v.toFixed(0)).join(' ');
}
