import { messageOf } from '../errors';
import type { Logger } from '../log';
import type { Descriptor } from '../oci/image-codecs';
import type { BlobHolder } from '../runtime/images';
import type { BlobSource } from '../runtime/images';

/**
 * A member that sends nothing for this long while asked for bytes is taken for gone (a pulled
 * cable fails a TCP stream only after minutes): its blob is read elsewhere.
 */
export const MEMBER_IDLE_MS = 10_000;

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
 * reached from the next holder, then from `fallback` (the registry, or the member a join names);
 * so is one that sends nothing for `idleMs`. Bytes are not trusted: containerd commits a layer
 * only when it matches its digest.
 */
export function spreadLayers(
  layers: readonly Descriptor[],
  holders: readonly BlobHolder[],
  fallback: BlobSource,
  log: Logger,
  idleMs = MEMBER_IDLE_MS,
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
      const watch = new IdleWatch(signal, idleMs);
      try {
        // Only the member's silence counts, not the time the consumer takes with a chunk.
        watch.arm();
        for await (const chunk of holder.provider.open(descriptor.digest, position, watch.signal)) {
          watch.disarm();
          position += chunk.length;
          yield chunk;
          watch.arm();
        }
        return;
      } catch (err) {
        if (signal.aborted) throw err;
        failed.add(holder);
        log.warn('member failed to send a blob, reading it elsewhere', {
          peer: holder.name,
          blob: descriptor.digest,
          offset: position,
          error: watch.expired ? `sent nothing for ${idleMs} ms` : messageOf(err),
        });
      } finally {
        watch.disarm();
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

/** An abort signal that follows `parent` and also fires when armed for `idleMs` without disarming. */
class IdleWatch {
  readonly signal: AbortSignal;
  expired = false;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    parent: AbortSignal,
    private readonly idleMs: number,
  ) {
    this.signal = AbortSignal.any([parent, this.controller.signal]);
  }

  arm(): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort();
    }, this.idleMs);
  }

  disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
