import {
  stopInCluster,
  type ChirpResult,
  type StopOutcome,
  type StopSources,
} from '../../../src/fleet';
import { ConflictError, NotFoundError, UnavailableError } from '../../../src/errors';
import { placed } from './fixtures';

const A1 = `a1${'0'.repeat(62)}`;
const B1 = `b1${'0'.repeat(62)}`;

/** This node "me" runs web (here: ['m1']); members a and b run web and api replicas. */
function world(result: Partial<ChirpResult> = {}, here = new Map([['web', ['m1']]])) {
  const calls: string[] = [];
  const failOn = new Map<string, Error>();
  const sources: StopSources = {
    chirp: () =>
      Promise.resolve({
        clustered: true,
        replicas: [
          placed('m1', 'web', 'me'),
          placed(A1, 'web', 'a'),
          placed(B1, 'web', 'b', false),
          placed('a2', 'api', 'a'),
        ],
        unreachable: [],
        ...result,
      }),
    selfNodeId: () => 'id-me',
    runsHere: (app) => here.has(app),
    stopHere: (target): Promise<StopOutcome> => {
      calls.push(`here ${target}`);
      const ids = here.get(target);
      if (ids !== undefined) return Promise.resolve({ app: target, stoppedIds: ids });
      if (target === 'm1') return Promise.resolve({ stoppedIds: ['m1'] });
      return Promise.reject(new NotFoundError(`no app or replica named ${target}`));
    },
    addressOf: (nodeId) => (nodeId === 'id-gone' ? undefined : `${nodeId}:7447`),
    stopOn: (nodeId, address, target) => {
      calls.push(`${nodeId} ${address} ${target}`);
      const failure = failOn.get(nodeId);
      if (failure !== undefined) return Promise.reject(failure);
      return Promise.resolve({ stoppedIds: [`${nodeId}-${target}`] });
    },
  };
  return { sources, calls, failOn };
}

const stop = (sources: StopSources, target: string) =>
  stopInCluster(sources, target, new AbortController().signal);

describe('stopInCluster', () => {
  it('stops an app here and on every member that runs it, stopped replicas included', async () => {
    const { sources, calls } = world();
    const outcome = await stop(sources, 'web');
    expect(outcome).toEqual({
      app: 'web',
      stoppedIds: ['m1', 'id-a-web', 'id-b-web'],
      unreachable: [],
    });
    expect(calls.sort()).toEqual(['here web', 'id-a id-a:7447 web', 'id-b id-b:7447 web']);
  });

  it('stops an app that runs only on members', async () => {
    const { sources, calls } = world();
    expect(await stop(sources, 'api')).toEqual({
      app: 'api',
      stoppedIds: ['id-a-api'],
      unreachable: [],
    });
    expect(calls).toEqual(['id-a id-a:7447 api']);
  });

  it('reports members it could not reach or that did not answer, and stops the rest', async () => {
    const { sources, failOn } = world({
      unreachable: [{ nodeId: 'id-c', name: 'c', address: 'c:7447', reason: 'timed out' }],
    });
    failOn.set('id-b', new UnavailableError('peer id-b:7447: connection refused'));
    const outcome = await stop(sources, 'web');
    expect(outcome.stoppedIds).toEqual(['m1', 'id-a-web']);
    expect(outcome.unreachable).toEqual([
      'c (timed out)',
      'b (peer id-b:7447: connection refused)',
    ]);
  });

  it('takes a member that stopped the app meanwhile in its stride', async () => {
    const { sources, failOn } = world();
    failOn.set('id-a', new NotFoundError('no app or replica named web'));
    expect((await stop(sources, 'web')).unreachable).toEqual([]);
  });

  it('stops one replica here, or forwards it by ID prefix to the member that runs it', async () => {
    const { sources, calls } = world();
    expect(await stop(sources, 'm1')).toEqual({ stoppedIds: ['m1'], unreachable: [] });
    expect(await stop(sources, 'a1')).toEqual({ stoppedIds: [`id-a-${A1}`], unreachable: [] });
    expect(calls).toEqual(['here m1', 'here a1', `id-a id-a:7447 ${A1}`]);
  });

  it('names an unknown target and an ambiguous prefix', async () => {
    const { sources } = world();
    await expect(stop(sources, 'zz')).rejects.toThrow(NotFoundError);
    const twice = world({
      replicas: [placed(A1, 'web', 'a'), placed(`a1${'f'.repeat(62)}`, 'web', 'b')],
    });
    await expect(stop(twice.sources, 'a1')).rejects.toThrow(ConflictError);
  });

  it('stops only here outside a cluster', async () => {
    const { sources, calls } = world({ clustered: false });
    expect(await stop(sources, 'web')).toEqual({ app: 'web', stoppedIds: ['m1'], unreachable: [] });
    expect(calls).toEqual(['here web']);
  });
});
