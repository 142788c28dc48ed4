import { UnavailableError } from '../../../src/errors';
import type { HelloAnswer } from '../../../src/membership';
import { reconnectingProber, type HelloChannel } from '../../../src/membership/peer-prober';

const ANSWER: HelloAnswer = {
  nodeId: 'b'.repeat(64),
  nodeName: 'node-b',
  clusterId: 'c'.repeat(64),
};

/** Channels that answer while `up`; records which were opened and closed. */
function channels() {
  const state = { up: true, opened: 0, closed: [] as number[] };
  const open = (): HelloChannel => {
    const n = ++state.opened;
    return {
      hello: () =>
        state.up ? Promise.resolve(ANSWER) : Promise.reject(new UnavailableError('timed out')),
      close: () => {
        state.closed.push(n);
      },
    };
  };
  return { state, open };
}

it('keeps one channel while the peer answers', async () => {
  const { state, open } = channels();
  const prober = reconnectingProber(open);
  for (let i = 0; i < 3; i++) await expect(prober.hello(1000)).resolves.toEqual(ANSWER);
  expect(state).toMatchObject({ opened: 1, closed: [] });
  prober.close();
  expect(state.closed).toEqual([1]);
});

it('closes a channel whose Hello failed and says the next Hello on a new one', async () => {
  const { state, open } = channels();
  const prober = reconnectingProber(open);
  await prober.hello(1000);
  state.up = false;
  await expect(prober.hello(1000)).rejects.toThrow('timed out');
  await expect(prober.hello(1000)).rejects.toThrow('timed out');
  expect(state).toMatchObject({ opened: 2, closed: [1, 2] });
  state.up = true;
  await expect(prober.hello(1000)).resolves.toEqual(ANSWER);
  expect(state.opened).toBe(3);
  prober.close();
  expect(state.closed).toEqual([1, 2, 3]);
});
