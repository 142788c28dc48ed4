import {
  streamRemoteLogs,
  type ChirpResult,
  type LogChunk,
  type LogsQuery,
  type RemoteLogSources,
} from '../../../src/fleet';
import { ConflictError, NotFoundError } from '../../../src/errors';
import { placed } from './fixtures';

const query = (target: string, follow = false): LogsQuery => ({
  target,
  follow,
  tail: 0,
  sinceUnixMs: 0,
});

/** Members that hold one log line per replica, and remember what was asked of whom. */
function sources(result: ChirpResult) {
  const opened: { address: string; nodeId: string; target: string }[] = [];
  const s: RemoteLogSources = {
    chirp: () => Promise.resolve(result),
    selfNodeId: () => 'id-a',
    addressOf: (nodeId) => (nodeId === 'id-gone' ? undefined : `${nodeId}:7447`),
    open: (address, nodeId, req) => {
      opened.push({ address, nodeId, target: req.target });
      return (async function* (): AsyncGenerator<LogChunk> {
        await Promise.resolve();
        yield { replicaId: req.target, data: Buffer.from(`line of ${req.target.slice(0, 2)}\n`) };
      })();
    },
  };
  return { s, opened };
}

async function collect(s: RemoteLogSources, req: LogsQuery): Promise<string[]> {
  const out: string[] = [];
  await streamRemoteLogs(
    s,
    req,
    (chunk) => {
      out.push(chunk.data.toString().trim());
      return Promise.resolve();
    },
    new AbortController().signal,
  );
  return out;
}

const cluster: ChirpResult = {
  clustered: true,
  replicas: [
    placed('a1', 'web', 'a'),
    placed('b1', 'web', 'b'),
    placed('c1', 'web', 'c'),
    placed('c2', 'api', 'c'),
  ],
  unreachable: [],
};
cluster.replicas[0]!.nodeId = 'id-a';

describe('logs of replicas on other members', () => {
  it('reads one replica, by a short ID, from the member that runs it', async () => {
    const { s, opened } = sources(cluster);
    expect(await collect(s, query('b1'))).toEqual(['line of b1']);
    expect(opened).toEqual([
      { address: 'id-b:7447', nodeId: 'id-b', target: 'b1'.padEnd(64, '0') },
    ]);
  });

  it("reads an app's replicas on every other member, not this node's", async () => {
    const { s, opened } = sources(cluster);
    expect(await collect(s, query('web'))).toEqual(['line of b1', 'line of c1']);
    expect(opened.map((o) => o.nodeId)).toEqual(['id-b', 'id-c']);
    expect((await collect(s, query('web', true))).sort()).toEqual(['line of b1', 'line of c1']);
  });

  it('refuses an ambiguous prefix, naming the candidates and their nodes', async () => {
    const { s } = sources(cluster);
    await expect(collect(s, query('c'))).rejects.toThrow(ConflictError);
    await expect(collect(s, query('c'))).rejects.toThrow(
      /c10000000000 on c, c20000000000 on c; give more of the ID/,
    );
  });

  it('says what it did not find, and which members did not answer', async () => {
    const { s } = sources({
      ...cluster,
      unreachable: [{ nodeId: 'id-d', name: 'd', address: '192.0.2.4:7447', reason: 'timeout' }],
    });
    await expect(collect(s, query('ffff'))).rejects.toThrow(NotFoundError);
    await expect(collect(s, query('nope'))).rejects.toThrow(
      "no app or replica named nope on this node or its members (1 member(s) did not answer: d) (see 'budgie chirp')",
    );
  });

  it('refuses a replica whose node is no longer a member', async () => {
    const gone = { ...placed('e1', 'web', 'e'), nodeId: 'id-gone' };
    const { s } = sources({ ...cluster, replicas: [gone] });
    await expect(collect(s, query('e1'))).rejects.toThrow(/its node e is no longer a known member/);
  });
});
