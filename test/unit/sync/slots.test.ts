import { Slots } from '../../../src/sync/slots';

/** A promise whose settling can be looked at without awaiting it. */
function watch<T>(promise: Promise<T>): { promise: Promise<T>; done: () => boolean } {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  return { promise, done: () => done };
}

/** Lets every pending promise callback run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

it('gives a slot at once while fewer than size are held', async () => {
  const slots = new Slots(3);
  const held = [watch(slots.acquire()), watch(slots.acquire()), watch(slots.acquire())];
  await settle();
  expect(held.map((h) => h.done())).toEqual([true, true, true]);
});

it('holds back the acquirer past size until a slot is released', async () => {
  const slots = new Slots(2);
  const first = await slots.acquire();
  await slots.acquire();

  const third = watch(slots.acquire());
  await settle();
  expect(third.done()).toBe(false);

  first();
  await settle();
  expect(third.done()).toBe(true);
});

it('never has more than size holders at once', async () => {
  const slots = new Slots(3);
  let holders = 0;
  let most = 0;
  const work = async (ms: number): Promise<void> => {
    const release = await slots.acquire();
    holders++;
    most = Math.max(most, holders);
    try {
      await new Promise((resolve) => setTimeout(resolve, ms));
    } finally {
      holders--;
      release();
    }
  };

  await Promise.all(Array.from({ length: 20 }, (_, i) => work(i % 4)));

  expect(most).toBe(3);
  expect(holders).toBe(0);
});

it('serves the waiters in the order they came', async () => {
  const slots = new Slots(1);
  const release = await slots.acquire();
  const order: number[] = [];
  const waiters = [1, 2, 3, 4].map(async (n) => {
    const done = await slots.acquire();
    order.push(n);
    done();
  });

  release();
  await Promise.all(waiters);

  expect(order).toEqual([1, 2, 3, 4]);
});

it('a release passes the slot to the next waiter, not to a later acquirer', async () => {
  const slots = new Slots(1);
  const release = await slots.acquire();
  const waiting = watch(slots.acquire());

  release();
  // Acquired after the release, but the slot went to the one already waiting.
  const late = watch(slots.acquire());
  await settle();

  expect(waiting.done()).toBe(true);
  expect(late.done()).toBe(false);
  (await waiting.promise)();
  await settle();
  expect(late.done()).toBe(true);
});

it('a second release of the same slot frees nothing (no waiters)', async () => {
  const slots = new Slots(1);
  const release = await slots.acquire();
  release();
  release();

  await slots.acquire();
  const second = watch(slots.acquire());
  await settle();

  expect(second.done()).toBe(false);
});

it('a second release of the same slot frees nothing (with waiters)', async () => {
  const slots = new Slots(1);
  const release = await slots.acquire();
  const a = watch(slots.acquire());
  const b = watch(slots.acquire());

  release();
  release();
  await settle();

  expect(a.done()).toBe(true);
  expect(b.done()).toBe(false);

  // The slot a holds is the only one: b gets it when a gives it back.
  (await a.promise)();
  await settle();
  expect(b.done()).toBe(true);
});

it('a slot given back and taken again is counted once', async () => {
  const slots = new Slots(2);
  for (let i = 0; i < 5; i++) {
    const release = await slots.acquire();
    release();
    release();
  }
  await slots.acquire();
  await slots.acquire();
  const third = watch(slots.acquire());
  await settle();
  expect(third.done()).toBe(false);
});
