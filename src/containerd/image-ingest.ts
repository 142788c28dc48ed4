import { randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError, UnavailableError } from '../errors';
import type { Logger } from '../log';
import type { Descriptor } from '../oci/image-codecs';
import type { BlobSource, Document, ImageEvent, IngestPlan } from '../runtime/images';
import type { ContainerdClient } from './client';
import type { CallOpts } from './connection';
import { unpackLayers } from './unpack';

export interface IngestContext {
  client: ContainerdClient;
  snapshotter: string;
  log: Logger;
  signal: AbortSignal;
  onEvent(event: ImageEvent): void;
}

/** Layers downloaded at once: enough to fill a LAN link, few enough not to thrash a disk. */
const LAYER_CONCURRENCY = 4;
/** Attempts per layer when a download breaks off; each resumes where the last one stopped. */
const DOWNLOAD_ATTEMPTS = 3;
/** A crashed pull's lease expires by itself, so its partial content is collected eventually. */
const LEASE_LIFETIME_MS = 24 * 3600_000;

const GC_CONTENT = 'containerd.io/gc.ref.content';
const GC_SNAPSHOT = 'containerd.io/gc.ref.snapshot';

/**
 * Stores an image the way containerd's own pull does, so that `ctr` and containerd's garbage
 * collector understand it: under a lease, layers are written (skipping those already present)
 * and unpacked into snapshots as soon as each one and its parent are in; then the config,
 * manifest and index are written with the `gc.ref` labels that chain them to their children;
 * then the image record. Only then is the lease released.
 */
export async function ingestImage(ctx: IngestContext, plan: IngestPlan): Promise<void> {
  const { client, signal } = ctx;
  const lease = await client.leases.create(`budgie-ingest-${randomBytes(8).toString('hex')}`, {
    'containerd.io/gc.expire': new Date(Date.now() + LEASE_LIFETIME_MS).toISOString(),
  });
  const opts: CallOpts = { signal, lease: lease.id };
  try {
    for (const layer of plan.layers) {
      ctx.onEvent({
        type: 'layer',
        digest: layer.digest,
        size: layer.size,
        done: 0,
        state: 'waiting',
      });
    }
    const downloads = downloadAll(ctx, plan, opts);
    // Unpacking follows the downloads layer by layer; a failed download fails it too.
    const topChainId = await unpackLayers(
      {
        client,
        snapshotter: ctx.snapshotter,
        opts,
        onUnpacked: (layer) => {
          ctx.onEvent({
            type: 'layer',
            digest: layer.digest,
            size: layer.size,
            done: layer.size,
            state: 'unpacked',
          });
        },
      },
      plan.layers,
      plan.imageConfig.rootfs.diff_ids,
      (i) => downloads[i] ?? Promise.reject(new NotFoundError(`layer ${i} missing`)),
    );
    await Promise.all(downloads);

    await writeDocument(
      ctx,
      plan.config,
      { [`${GC_SNAPSHOT}.${ctx.snapshotter}`]: topChainId },
      opts,
    );
    const manifestLabels: Record<string, string> = {
      [`${GC_CONTENT}.config`]: plan.config.descriptor.digest,
    };
    plan.layers.forEach((layer, i) => {
      manifestLabels[`${GC_CONTENT}.l.${i}`] = layer.digest;
    });
    await writeDocument(ctx, plan.manifest, manifestLabels, opts);
    let target = plan.manifest.descriptor;
    if (plan.index !== undefined) {
      const position = plan.index.manifestPosition;
      const indexLabels = { [`${GC_CONTENT}.m.${position}`]: plan.manifest.descriptor.digest };
      await writeDocument(ctx, plan.index.document, indexLabels, opts);
      target = plan.index.document.descriptor;
    }
    await saveRecord(client, plan.name, target, opts);
  } finally {
    // Everything is now reachable from the image record; without it the lease keeps nothing.
    await client.leases.delete(lease.id).catch((err: unknown) => {
      ctx.log.warn('could not release lease', { lease: lease.id, err });
    });
  }
}

function downloadAll(ctx: IngestContext, plan: IngestPlan, opts: CallOpts): Promise<void>[] {
  const slots: (() => void)[] = [];
  let running = 0;
  const acquire = async (): Promise<void> => {
    if (running < LAYER_CONCURRENCY) {
      running++;
      return;
    }
    await new Promise<void>((resolve) => slots.push(resolve));
  };
  const release = (): void => {
    const wake = slots.shift();
    if (wake === undefined) running--;
    else wake();
  };
  // Layers start in order, so the first ones (needed first by the unpacker) finish first.
  return plan.layers.map((layer) => {
    const work = (async () => {
      await acquire();
      try {
        await downloadLayer(ctx, plan.source, layer, opts);
      } finally {
        release();
      }
    })();
    // The unpacker may stop at an earlier layer's failure before awaiting this one.
    work.catch(() => undefined);
    return work;
  });
}

async function downloadLayer(
  ctx: IngestContext,
  source: BlobSource,
  layer: Descriptor,
  opts: CallOpts,
): Promise<void> {
  const event = (done: number, state: 'downloading' | 'downloaded' | 'exists'): void => {
    ctx.onEvent({ type: 'layer', digest: layer.digest, size: layer.size, done, state });
  };
  if (await hasContent(ctx.client, layer.digest, opts)) {
    // Present content must also be protected by this pull's lease until the record holds it.
    await ctx.client.leases.addResource(opts.lease ?? '', { id: layer.digest, type: 'content' });
    event(layer.size, 'exists');
    return;
  }
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await ctx.client.content.write(
        {
          ref: `budgie-layer-${layer.digest}`,
          expected: layer.digest,
          total: layer.size,
          open: (offset) => streamFrom(source, layer, offset, ctx.signal),
          onProgress: (written) => {
            event(written, 'downloading');
          },
        },
        opts,
      );
      event(layer.size, result.existed ? 'exists' : 'downloaded');
      return;
    } catch (err) {
      if (!(err instanceof UnavailableError) || attempt >= DOWNLOAD_ATTEMPTS) throw err;
      ctx.log.warn('layer download interrupted, resuming', { layer: layer.digest, attempt });
    }
  }
}

async function* streamFrom(
  source: BlobSource,
  layer: Descriptor,
  offset: number,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  yield* await source(layer, offset, signal);
}

async function hasContent(
  client: ContainerdClient,
  digest: string,
  opts: CallOpts,
): Promise<boolean> {
  try {
    await client.content.info(digest, { signal: opts.signal });
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}

/**
 * Writes a small document with its gc labels. When it is already there (an earlier pull, another
 * platform of the same index) the labels are merged in, since a commit that finds the blob sets
 * none.
 */
async function writeDocument(
  ctx: IngestContext,
  doc: Document,
  labels: Record<string, string>,
  opts: CallOpts,
): Promise<void> {
  const { digest, size } = doc.descriptor;
  const result = await ctx.client.content.write(
    {
      ref: `budgie-doc-${digest}`,
      expected: digest,
      total: size,
      labels,
      open: (offset) => [doc.bytes.subarray(offset)],
    },
    opts,
  );
  if (!result.existed) return;
  await ctx.client.leases.addResource(opts.lease ?? '', { id: digest, type: 'content' });
  const paths = Object.keys(labels).map((key) => `labels.${key}`);
  if (paths.length > 0) await ctx.client.content.update({ digest, labels }, paths, opts);
}

async function saveRecord(
  client: ContainerdClient,
  name: string,
  target: Descriptor,
  opts: CallOpts,
): Promise<void> {
  const descriptor = { mediaType: target.mediaType, digest: target.digest, size: target.size };
  try {
    await client.images.create({ name, target: descriptor, labels: {} }, opts);
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    // A newer version of a tag replaces the old record, as `docker pull` does.
    await client.images.update({ name, target: descriptor }, ['target'], opts);
  }
}
