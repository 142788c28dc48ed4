import { messageOf } from '../errors';
import type { Logger } from '../log';
import type { Descriptor } from '../oci/image-codecs';
import type { BlobHolder } from '../runtime/images';
import type { BlobSource } from './image-ingest';

/** Who serves an image's layers: members that hold them, spread out, and a fallback for the rest. */
export interface LayerSpread {
  source: BlobSource;
  /** Layers first asked of each member, by node name, in the holders' order. */
  fromMembers: ReadonlyMap<string, number>;
  /** Layers no member holds. */
  fromFallback: number;
}

/**
 * Assigns every layer that some member holds to the holder with the fewest bytes assigned so far
 * (largest layers first), so that concurrent layer downloads run against several members at once.
 * A member that fails mid-blob is dropped for that blob, and the read resumes at the byte it
 * reached from the next holder, then from `fallback` (the registry, or the member a join names).
 * Bytes are not trusted: containerd commits a layer only when it matches its digest.
 */
export function spreadLayers(
  layers: readonly Descriptor[],
  holders: readonly BlobHolder[],
  fallback: BlobSource,
  log: Logger,
): LayerSpread {
  const assignedBytes = new Map<BlobHolder, number>(holders.map((h) => [h, 0]));
  const assignedLayers = new Map<BlobHolder, number>();
  const order = new Map<string, BlobHolder[]>();
  let fromFallback = 0;
  for (const layer of [...layers].sort((a, b) => b.size - a.size)) {
    if (order.has(layer.digest)) continue;
    const byLoad = holders
      .filter((h) => h.has.has(layer.digest))
      .sort((a, b) => (assignedBytes.get(a) ?? 0) - (assignedBytes.get(b) ?? 0));
    const first = byLoad[0];
    if (first === undefined) {
      fromFallback++;
      continue;
    }
    assignedBytes.set(first, (assignedBytes.get(first) ?? 0) + layer.size);
    assignedLayers.set(first, (assignedLayers.get(first) ?? 0) + 1);
    order.set(layer.digest, byLoad);
  }
  const dropped = new Map<string, Set<BlobHolder>>();

  async function* read(
    descriptor: Descriptor,
    offset: number,
    signal: AbortSignal,
  ): AsyncGenerator<Uint8Array> {
    let position = offset;
    const failed = dropped.get(descriptor.digest) ?? new Set<BlobHolder>();
    dropped.set(descriptor.digest, failed);
    for (const holder of order.get(descriptor.digest) ?? []) {
      if (failed.has(holder)) continue;
      try {
        for await (const chunk of holder.provider.open(descriptor.digest, position, signal)) {
          position += chunk.length;
          yield chunk;
        }
        return;
      } catch (err) {
        if (signal.aborted) throw err;
        failed.add(holder);
        log.warn('member failed to send a blob, reading it elsewhere', {
          peer: holder.name,
          blob: descriptor.digest,
          offset: position,
          error: messageOf(err),
        });
      }
    }
    yield* await fallback(descriptor, position, signal);
  }

  return {
    source: (descriptor, offset, signal) => Promise.resolve(read(descriptor, offset, signal)),
    fromMembers: new Map(
      holders.flatMap((h) => {
        const n = assignedLayers.get(h);
        return n === undefined ? [] : [[h.name, n] as const];
      }),
    ),
    fromFallback,
  };
}

/** "2 layers from members (node-a 1, node-b 1), 1 from the registry". */
export function describeSpread(spread: LayerSpread, fallbackWhat: string): string {
  const total = [...spread.fromMembers.values()].reduce((sum, n) => sum + n, 0);
  const members = [...spread.fromMembers].map(([name, n]) => `${name} ${n}`).join(', ');
  const layers = `layer${total === 1 ? '' : 's'}`;
  return `${total} ${layers} from members (${members}), ${spread.fromFallback} from ${fallbackWhat}`;
}
