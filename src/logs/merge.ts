export interface LogSource {
  /** The replica the chunks come from. */
  id: string;
  iterable: AsyncIterable<Buffer>;
}

export interface TaggedChunk {
  id: string;
  data: Buffer;
}

/**
 * Several replicas' log streams interleaved as chunks arrive, each tagged with its replica. Ends
 * when every source has ended; an error from one ends it and asks the rest to close, as does the
 * consumer stopping early (followers stop for good when their signal aborts).
 */
export async function* mergeLogs(sources: readonly LogSource[]): AsyncGenerator<TaggedChunk> {
  const iterators = sources.map((s) => s.iterable[Symbol.asyncIterator]());
  type Step = { index: number; result: IteratorResult<Buffer> };
  const pending = new Map<number, Promise<Step>>();
  const pull = (index: number, iterator: AsyncIterator<Buffer>): void => {
    const step = iterator.next().then((result) => ({ index, result }));
    step.catch(() => undefined); // handled by the race below, or dropped when we close
    pending.set(index, step);
  };
  iterators.forEach((it, i) => {
    pull(i, it);
  });
  try {
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values());
      const iterator = iterators[index];
      const source = sources[index];
      if (iterator === undefined || source === undefined) continue;
      if (result.done === true) {
        pending.delete(index);
        continue;
      }
      yield { id: source.id, data: result.value };
      pull(index, iterator);
    }
  } finally {
    const closing: Promise<unknown>[] = [];
    for (const i of pending.keys()) {
      const closed = iterators[i]?.return?.();
      if (closed !== undefined) closing.push(closed);
    }
    pending.clear();
    // Not awaited: a generator waiting for data takes a return() only at its next yield, which
    // an idle follower may never reach. Aborting the sources' signals is what stops them.
    void Promise.allSettled(closing);
  }
}
