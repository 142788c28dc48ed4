import { randomBytes } from 'node:crypto';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors';
import type { Descriptor } from '../oci/image-codecs';
import { chainIds } from '../oci/chain-id';
import type { ContainerdClient } from './client';
import type { CallOpts } from './connection';

export interface UnpackContext {
  client: ContainerdClient;
  snapshotter: string;
  /** Must carry the lease that protects the snapshots until an image's config references them. */
  opts: CallOpts;
  onUnpacked(layer: Descriptor): void;
}

/**
 * Unpacks layers into committed snapshots named by chain ID (what containerd's unpacker and
 * `ctr` look for), reusing any already there (those get no "unpacked" event). Layer i is applied once `downloaded(i)` resolves,
 * so unpacking overlaps the downloads of later layers. Returns the top chain ID.
 */
export async function unpackLayers(
  ctx: UnpackContext,
  layers: readonly Descriptor[],
  diffIds: readonly string[],
  downloaded: (i: number) => Promise<void>,
): Promise<string> {
  if (layers.length !== diffIds.length) {
    throw new InvalidInputError(
      `image has ${layers.length} layers but its config lists ${diffIds.length} diff IDs`,
    );
  }
  const chain = chainIds(diffIds);
  let parent = '';
  for (const [i, layer] of layers.entries()) {
    const chainId = chain[i] ?? '';
    if (await hasSnapshot(ctx, chainId)) {
      await ctx.client.leases.addResource(ctx.opts.lease ?? '', {
        id: chainId,
        type: `snapshots/${ctx.snapshotter}`,
      });
    } else {
      await downloaded(i);
      await applyLayer(ctx, layer, diffIds[i] ?? '', parent, chainId);
      ctx.onUnpacked(layer);
    }
    parent = chainId;
  }
  if (parent === '') throw new InvalidInputError('image has no layers');
  return parent;
}

async function applyLayer(
  ctx: UnpackContext,
  layer: Descriptor,
  diffId: string,
  parent: string,
  chainId: string,
): Promise<void> {
  const { client, snapshotter, opts } = ctx;
  // containerd's own unpack key format, so a crashed unpack is recognisable and collected.
  const key = `extract-${randomBytes(6).toString('hex')} ${chainId}`;
  const mounts = await client.snapshots.prepare({ snapshotter, key, parent }, opts);
  let committed = false;
  try {
    const applied = await client.diff.apply(
      { diff: { mediaType: layer.mediaType, digest: layer.digest, size: layer.size }, mounts },
      opts,
    );
    if (applied.digest !== diffId) {
      throw new InvalidInputError(
        `layer ${layer.digest} unpacks to ${applied.digest}, but the image config says ${diffId}`,
      );
    }
    try {
      await client.snapshots.commit({ snapshotter, key, name: chainId }, opts);
      committed = true;
    } catch (err) {
      // Another pull of an image sharing this layer committed it first: theirs is as good.
      if (!(err instanceof ConflictError)) throw err;
      await client.leases.addResource(opts.lease ?? '', {
        id: chainId,
        type: `snapshots/${snapshotter}`,
      });
    }
  } finally {
    if (!committed) await client.snapshots.remove(snapshotter, key).catch(() => undefined);
  }
}

async function hasSnapshot(ctx: UnpackContext, chainId: string): Promise<boolean> {
  try {
    await ctx.client.snapshots.stat(ctx.snapshotter, chainId, { signal: ctx.opts.signal });
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}
