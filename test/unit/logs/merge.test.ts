import { mergeLogs, type TaggedChunk } from '../../../src/logs';

/** A source that yields its chunks when told to. */
function manual() {
  const queue: (Buffer | null)[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  async function* gen(): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        while (queue.length === 0) await new Promise<void>((r) => (wake = r));
        const next = queue.shift();
        if (next === null || next === undefined) return;
        yield next;
      }
    } finally {
      closed = true;
    }
  }
  return {
    iterable: gen(),
    push: (text: string | null) => {
      queue.push(text === null ? null : Buffer.from(text));
      wake?.();
    },
    closed: () => closed,
  };
}

async function* fixed(...chunks: string[]): AsyncGenerator<Buffer> {
  for (const c of chunks) yield await Promise.resolve(Buffer.from(c));
}

const show = (c: TaggedChunk): string => `${c.id}:${c.data.toString()}`;

async function nextShown(it: AsyncIterator<TaggedChunk>): Promise<string> {
  const step = await it.next();
  if (step.done === true) throw new Error('ended early');
  return show(step.value);
}

describe('mergeLogs', () => {
  it('interleaves chunks as they arrive, tagged, and ends when all sources end', async () => {
    const a = manual();
    const b = manual();
    const merged = mergeLogs([
      { id: 'a', iterable: a.iterable },
      { id: 'b', iterable: b.iterable },
    ]);
    const it = merged[Symbol.asyncIterator]();
    b.push('b1');
    expect(await nextShown(it)).toBe('b:b1');
    a.push('a1');
    expect(await nextShown(it)).toBe('a:a1');
    b.push(null);
    a.push('a2');
    expect(await nextShown(it)).toBe('a:a2');
    a.push(null);
    expect((await it.next()).done).toBe(true);
  });

  it('gives every chunk of finite sources', async () => {
    const out: string[] = [];
    for await (const c of mergeLogs([
      { id: 'x', iterable: fixed('1', '2') },
      { id: 'y', iterable: fixed('3') },
      { id: 'z', iterable: fixed() },
    ]))
      out.push(show(c));
    expect(out.sort()).toEqual(['x:1', 'x:2', 'y:3']);
  });

  it('passes on an error and closes the other sources', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield await Promise.resolve(Buffer.from('ok'));
      throw new Error('disk on fire');
    }
    const other = manual();
    const out: string[] = [];
    const run = (async () => {
      for await (const c of mergeLogs([
        { id: 'f', iterable: failing() },
        { id: 'o', iterable: other.iterable },
      ]))
        out.push(show(c));
    })();
    await expect(run).rejects.toThrow('disk on fire');
    expect(out).toEqual(['f:ok']);
    other.push('late'); // lets the pending next() finish so the queued return() can run
    await new Promise((r) => setImmediate(r));
    expect(other.closed()).toBe(true);
  });
});
