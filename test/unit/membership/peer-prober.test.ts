import { UnavailableError } from '../../../src/errors';
import type { HelloAnswer } from '../../../src/membership';
import { reconnectingProber, type HelloChannel } from '../../../src/membership/peer-prober';

const ANSWER: HelloAnswer = {
  nodeId: 'b'.repeat(64),
  nodeName: 'node-b',
  clusterId: 'c'.repeat(64),
};

/** Channels that answer while `up`, a network that lets connections through while `reachable`. */
function peer() {
  const state = { up: true, reachable: true, probes: 0, opened: 0, closed: [] as number[] };
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
  const reachable = (): Promise<boolean> => {
    state.probes++;
    return Promise.resolve(state.reachable);
  };
  return { state, prober: reconnectingProber(open, reachable) };
}

it('keeps one channel while the peer answers, and probes nothing', async () => {
  const { state, prober } = peer();
  for (let i = 0; i < 3; i++) await expect(prober.hello(1000)).resolves.toEqual(ANSWER);
  expect(state).toMatchObject({ opened: 1, closed: [], probes: 0 });
  prober.close();
  expect(state.closed).toEqual([1]);
});

it('after a failed Hello, opens no channel until a plain connection gets through', async () => {
  const { state, prober } = peer();
  await prober.hello(1000);
  state.up = false;
  state.reachable = false;
  await expect(prober.hello(1000)).rejects.toThrow('timed out');
  await expect(prober.hello(1000)).rejects.toThrow('no connection to the peer within 1000 ms');
  await expect(prober.hello(1000)).rejects.toThrow('no connection');
  expect(state).toMatchObject({ opened: 1, closed: [], probes: 2 });

  // Back: the stale channel goes, a new one says Hello.
  state.up = true;
  state.reachable = true;
  await expect(prober.hello(1000)).resolves.toEqual(ANSWER);
  expect(state).toMatchObject({ opened: 2, closed: [1], probes: 3 });
  await prober.hello(1000);
  expect(state).toMatchObject({ opened: 2, probes: 3 });
  prober.close();
  expect(state.closed).toEqual([1, 2]);
});
