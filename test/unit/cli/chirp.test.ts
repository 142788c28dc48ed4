import { FailedPreconditionError, UnavailableError } from '../../../src/errors';
import { Health, ReplicaState } from '../../../src/gen/budgie/v1/apps';
import type { ChirpReplica } from '../../../src/gen/budgie/v1/chirp';
import { cli } from '../../support/cli';
import { replica } from '../../support/fake-app-service';
import { FakeChirpService } from '../../support/fake-chirp-service';

const NOW = Date.parse('2024-05-01T12:00:00Z');

function placed(id: string, node: string, overrides: Partial<ChirpReplica> = {}): ChirpReplica {
  return {
    replica: replica({
      id: id.padEnd(64, '0'),
      node,
      health: Health.HEALTH_HEALTHY,
      startedUnixMs: NOW - 60_000,
      ports: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    }),
    nodeId: `${node}-id`.padEnd(64, 'f'),
    addresses: [`192.0.2.${node === 'node-a' ? 1 : 2}:8080`],
    replicasMin: 2,
    replicasMax: 4,
    ...overrides,
  };
}

describe('budgie chirp', () => {
  let agent: FakeChirpService;
  const run = (...argv: string[]) => cli([...argv, '--socket', agent.socket], { now: () => NOW });

  beforeEach(async () => {
    agent = await FakeChirpService.start();
    agent.response = {
      clustered: true,
      replicas: [
        placed('3f2a9c1b7d0e', 'node-a'),
        placed('9bc1d2e3f4a5', 'node-b'),
        placed('aaaabbbbcccc', 'node-b', {
          replica: replica({
            id: 'aaaabbbbcccc'.padEnd(64, '0'),
            app: 'worker',
            image: 'docker.io/library/busybox:latest',
            node: 'node-b',
          }),
          addresses: [],
          replicasMin: 1,
          replicasMax: 1,
        }),
      ],
      unreachable: [],
    };
  });
  afterEach(() => agent.stop());

  it('prints every node’s replicas with cluster-wide counts per app', async () => {
    const r = await run('chirp');
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'ID             APP      IMAGE                              NODE     ADDRESS          HEALTH    REPLICAS',
        '3f2a9c1b7d0e   webapp   docker.io/library/nginx:alpine     node-a   192.0.2.1:8080   healthy   2/2..4',
        '9bc1d2e3f4a5   webapp   docker.io/library/nginx:alpine     node-b   192.0.2.2:8080   healthy   2/2..4',
        'aaaabbbbcccc   worker   docker.io/library/busybox:latest   node-b   -                -         1/1..1',
        '',
      ].join('\n'),
    });
    expect(agent.requests).toEqual([{ timeoutMs: 0, all: false }]);
  });

  it('takes the highest min and max any member reports (one may not have heard of a change)', async () => {
    agent.response.replicas[1]!.replicasMin = 1;
    agent.response.replicas[0]!.replicasMax = 3;
    const r = await run('chirp');
    expect(
      r.stdout
        .split('\n')
        .slice(1, 3)
        .map((l) => l.split(/\s+/).at(-1)),
    ).toEqual(['2/2..4', '2/2..4']);
  });

  it('counts only running replicas', async () => {
    agent.response.replicas[1]!.replica!.state = ReplicaState.REPLICA_STATE_EXITED;
    const r = await run('chirp');
    expect(r.stdout.split('\n')[1]).toMatch(/ 1\/2\.\.4$/);
  });

  it('names unreachable members in a footer line', async () => {
    agent.response.unreachable = [
      {
        nodeId: 'c'.repeat(64),
        name: 'node-c',
        address: '192.0.2.3:7447',
        reason: 'no answer within 1000 ms',
      },
      { nodeId: 'd'.repeat(64), name: '', address: '192.0.2.4:7447', reason: 'suspect' },
    ];
    const r = await run('chirp');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(
      'Not listed, 2 member(s) unreachable: node-c (192.0.2.3:7447): no answer within 1000 ms; dddddddddddd (192.0.2.4:7447): suspect',
    );
  });

  it('says when this node is in no cluster', async () => {
    agent.response = {
      clustered: false,
      replicas: [placed('3f2a9c1b7d0e', 'node-a')],
      unreachable: [],
    };
    const r = await run('chirp');
    expect(r.stdout).toMatch(/\nThis node is in no cluster: only its own replicas are listed\.\n$/);
  });

  it('prints JSON with nodes, addresses, counts and unreachable members', async () => {
    agent.response.unreachable = [
      { nodeId: 'c'.repeat(64), name: 'node-c', address: '192.0.2.3:7447', reason: 'suspect' },
    ];
    const r = await run('chirp', '--format', 'json', '--timeout', '2s');
    expect(r.code).toBe(0);
    expect(agent.requests).toEqual([{ timeoutMs: 2000, all: false }]);
    const json = JSON.parse(r.stdout) as {
      clustered: boolean;
      replicas: {
        id: string;
        node: string;
        nodeId: string;
        addresses: string[];
        replicas: unknown;
      }[];
      unreachable: unknown[];
    };
    expect(json.clustered).toBe(true);
    expect(json.replicas[1]).toMatchObject({
      id: '9bc1d2e3f4a5'.padEnd(64, '0'),
      node: 'node-b',
      nodeId: 'node-b-id'.padEnd(64, 'f'),
      addresses: ['192.0.2.2:8080'],
      state: 'running',
      health: 'healthy',
      replicas: { running: 2, min: 2, max: 4 },
    });
    expect(json.unreachable).toEqual([
      { nodeId: 'c'.repeat(64), name: 'node-c', address: '192.0.2.3:7447', reason: 'suspect' },
    ]);
  });

  it.each(['abc', '0s', '2m'])('refuses --timeout %s with exit 2', async (timeout) => {
    const r = await run('chirp', '--timeout', timeout);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^budgie: --timeout must be a duration between 1ms and 60s/);
    expect(agent.requests).toEqual([]);
  });

  it('joins a replica: progress on stderr, the new replica ID alone on stdout', async () => {
    const id = 'c0ffee'.padEnd(64, '1');
    agent.joinEvents = [
      { event: { $case: 'phase', value: 'fetching app web from node-a' } },
      { event: { $case: 'blobs', value: { done: 0, total: 2 } } },
      { event: { $case: 'blobs', value: { done: 2, total: 2 } } },
      { event: { $case: 'phase', value: 'starting web on this node' } },
      { event: { $case: 'done', value: { app: 'web', replicaId: id, peerNode: 'node-a' } } },
    ];
    const r = await run('chirp', '3f2a9c1b7d0e');
    expect(r).toEqual({
      code: 0,
      stdout: `${id}\n`,
      stderr:
        'fetching app web from node-a\nblobs 0/2\nblobs 2/2\nstarting web on this node\n' +
        'web: joined from node-a, replica c0ffee111111 running\n',
    });
    expect(agent.joinRequests).toEqual([{ target: '3f2a9c1b7d0e', volumeMap: [] }]);
    expect(agent.requests).toEqual([]);
  });

  it('passes --volume-map TARGET=HOSTPATH to the join, and refuses one that is not', async () => {
    await run('chirp', 'web', '--volume-map', '/etc/web=/srv/web-config', '--volume-map', '/c=/d');
    expect(agent.joinRequests).toEqual([
      {
        target: 'web',
        volumeMap: [
          { target: '/etc/web', source: '/srv/web-config' },
          { target: '/c', source: '/d' },
        ],
      },
    ]);
    for (const bad of ['/etc/web', 'etc=/srv', '/etc=srv']) {
      const r = await run('chirp', 'web', '--volume-map', bad);
      expect(r).toEqual({
        code: 2,
        stdout: '',
        stderr: `budgie: --volume-map ${bad}: expected TARGET=HOSTPATH, both absolute (e.g. /etc/web=/srv/web-config)\n`,
      });
    }
    const r = await run('chirp', '--volume-map', '/a=/b');
    expect(r.stderr).toBe(
      'budgie: --volume-map: only with a target to join (budgie chirp ID ...)\n',
    );
    expect(agent.joinRequests).toHaveLength(1);
  });

  it('reports a refused join in one line, exit 1', async () => {
    agent.joinFailure = new FailedPreconditionError(
      'app web already runs 4 replica(s) in the cluster, its replicas.max of 4: not joining',
    );
    const r = await run('chirp', 'web');
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'budgie: app web already runs 4 replica(s) in the cluster, its replicas.max of 4: not joining\n',
    });
  });

  it('says so when the agent ends a join without a result', async () => {
    const r = await run('chirp', 'web');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^budgie: the agent ended the join of web without a result/);
  });

  it('reports an agent failure in one line', async () => {
    agent.failure = new UnavailableError('the agent is still starting');
    const r = await run('chirp');
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'budgie: the agent is still starting\n' });
  });
});

describe('budgie ps --all-nodes', () => {
  let agent: FakeChirpService;
  const run = (...argv: string[]) => cli([...argv, '--socket', agent.socket], { now: () => NOW });

  beforeAll(async () => {
    agent = await FakeChirpService.start();
    agent.response = {
      clustered: true,
      replicas: [
        placed('3f2a9c1b7d0e', 'node-a'),
        placed('9bc1d2e3f4a5', 'node-b', {
          replica: replica({ id: '9bc1d2e3f4a5'.padEnd(64, '0'), app: 'worker', node: 'node-b' }),
        }),
      ],
      unreachable: [
        { nodeId: 'c'.repeat(64), name: 'node-c', address: '192.0.2.3:7447', reason: 'dead' },
      ],
    };
  });
  afterAll(() => agent.stop());

  it("shows every node's replicas in ps's table, NODE filled; unreachable members on stderr", async () => {
    const r = await run('ps', '--all-nodes');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+APP\s+IMAGE\s+STATUS\s+HEALTH\s+PORTS\s+NODE$/);
    expect(lines[1]).toMatch(
      /^3f2a9c1b7d0e\s+webapp\s+.*running 1m\s+healthy\s+8080->80\/tcp\s+node-a$/,
    );
    expect(lines[2]).toMatch(/^9bc1d2e3f4a5\s+worker\s+.*node-b$/);
    expect(r.stderr).toBe(
      'budgie: Not listed, 1 member(s) unreachable: node-c (192.0.2.3:7447): dead\n',
    );
  });

  it('keeps the ps JSON shape, filters by --app and passes --all', async () => {
    agent.requests.length = 0;
    const r = await run('ps', '--all-nodes', '--all', '--app', 'worker', '--format', 'json');
    expect(agent.requests).toEqual([{ timeoutMs: 0, all: true }]);
    const rows = JSON.parse(r.stdout) as { id: string; node: string }[];
    expect(rows.map((x) => [x.id.slice(0, 12), x.node])).toEqual([['9bc1d2e3f4a5', 'node-b']]);
  });
});
