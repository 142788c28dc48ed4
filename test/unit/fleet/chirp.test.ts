import { chirp, Fleet, type ChirpSources, type NodeListing } from '../../../src/fleet';
import { UnavailableError } from '../../../src/errors';
import { silentLogger } from '../../../src/log';
import type { MemberView } from '../../../src/membership';
import { ManualClock, settle } from '../../support/fakes/mdns';
import { listing, member, placed } from './fixtures';

/**
 * Sources whose members answer as the test says: a listing, a failure, or never. The fleet is
 * not started: only the chirp's fresh asks reach the members.
 */
function sources(
  self: NodeListing,
  members: MemberView[] | undefined,
  answers: Record<string, NodeListing | Error | 'never'>,
  clock = new ManualClock(),
) {
  const asked: string[] = [];
  const aborted: string[] = [];
  const fleet = new Fleet({
    clock,
    log: silentLogger(),
    sources: {
      members: () => members?.map((m) => ({ ...m, self: false })),
      ask: (m, signal) => {
        asked.push(m.name);
        signal.addEventListener('abort', () => aborted.push(m.name));
        const answer = answers[m.name];
        if (answer === 'never' || answer === undefined) return new Promise(() => undefined);
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
      },
    },
  });
  const s: ChirpSources = { self: () => self, fleet };
  return { s, asked, aborted };
}

describe('chirp', () => {
  it('outside a cluster lists only this node and says so', async () => {
    const { s, asked } = sources(listing('a', placed('a1', 'web', 'a')), undefined, {});
    const res = await chirp(s, new ManualClock(), { all: false, timeoutMs: 1000 });
    expect(res.clustered).toBe(false);
    expect(res.replicas.map((r) => r.replica.node)).toEqual(['a']);
    expect(res.unreachable).toEqual([]);
    expect(asked).toEqual([]);
  });

  it("merges every alive member's replicas, sorted by app then node", async () => {
    const { s } = sources(
      listing('b', placed('b1', 'web', 'b'), placed('b2', 'api', 'b')),
      [member('a'), member('c')],
      {
        a: listing('a', placed('a1', 'web', 'a')),
        c: listing('c', placed('c1', 'web', 'c'), placed('c2', 'api', 'c')),
      },
    );
    const res = await chirp(s, new ManualClock(), { all: false, timeoutMs: 1000 });
    expect(res.clustered).toBe(true);
    expect(res.unreachable).toEqual([]);
    expect(res.replicas.map((r) => `${r.replica.app}@${r.replica.node}`)).toEqual([
      'api@b',
      'api@c',
      'web@a',
      'web@b',
      'web@c',
    ]);
  });

  it('lists a member that does not answer in time as unreachable, and cancels its call', async () => {
    const clock = new ManualClock();
    const { s, aborted } = sources(
      listing('a', placed('a1', 'web', 'a')),
      [member('b'), member('c')],
      {
        b: 'never',
        c: listing('c', placed('c1', 'web', 'c')),
      },
      clock,
    );
    let done = false;
    const pending = chirp(s, clock, { all: false, timeoutMs: 1000 }).finally(() => {
      done = true;
    });
    await clock.advance(999);
    expect(done).toBe(false);
    await clock.advance(1);
    const res = await pending;
    expect(res.replicas.map((r) => r.replica.node)).toEqual(['a', 'c']);
    expect(res.unreachable).toEqual([
      {
        nodeId: 'id-b',
        name: 'b',
        address: member('b').address,
        reason: 'no answer within 1000 ms',
      },
    ]);
    expect(aborted).toEqual(['b']);
  });

  it('asks members in parallel: one deadline for all, not one after another', async () => {
    const clock = new ManualClock();
    const { s, asked } = sources(
      listing('a'),
      [member('b'), member('c'), member('d')],
      { b: 'never', c: 'never', d: 'never' },
      clock,
    );
    const pending = chirp(s, clock, { all: false, timeoutMs: 500 });
    await settle();
    expect(asked).toEqual(['b', 'c', 'd']);
    await clock.advance(500);
    expect((await pending).unreachable.map((u) => u.name)).toEqual(['b', 'c', 'd']);
  });

  it('lists a member whose call fails with the reason, at once', async () => {
    const { s } = sources(listing('a'), [member('b')], {
      b: new UnavailableError('peer 192.0.2.1:7447: connection refused'),
    });
    const res = await chirp(s, new ManualClock(), { all: false, timeoutMs: 1000 });
    expect(res.unreachable.map((u) => [u.name, u.reason])).toEqual([
      ['b', 'peer 192.0.2.1:7447: connection refused'],
    ]);
  });

  it('does not ask suspect or dead members, and lists them as unreachable', async () => {
    const { s, asked } = sources(
      listing('a'),
      [member('b', 'suspect'), member('c', 'dead'), member('d')],
      { d: listing('d', placed('d1', 'web', 'd')) },
    );
    const res = await chirp(s, new ManualClock(), { all: false, timeoutMs: 1000 });
    expect(asked).toEqual(['d']);
    expect(res.unreachable.map((u) => [u.name, u.reason])).toEqual([
      ['b', 'suspect'],
      ['c', 'dead'],
    ]);
    expect(res.replicas.map((r) => r.replica.node)).toEqual(['d']);
  });

  it('lists stopped replicas, here and on members, only with `all`', async () => {
    const { s } = sources(listing('a', placed('a1', 'web', 'a', false)), [member('b')], {
      b: listing('b', placed('b1', 'web', 'b', false), placed('b2', 'web', 'b')),
    });
    const clock = new ManualClock();
    const all = await chirp(s, clock, { all: true, timeoutMs: 1000 });
    expect(all.replicas.map((r) => r.replica.id.slice(0, 2))).toEqual(['a1', 'b1', 'b2']);
    const running = await chirp(s, clock, { all: false, timeoutMs: 1000 });
    expect(running.replicas.map((r) => r.replica.id.slice(0, 2))).toEqual(['b2']);
  });
});
