import {
  ConflictError,
  FailedPreconditionError,
  InvalidInputError,
  NotFoundError,
  PermissionDeniedError,
} from '../../../src/errors';
import { NodeState, type ClusterNode } from '../../../src/gen/budgie/v1/cluster';
import { cli } from '../../support/cli';
import { FakeClusterService } from '../../support/fake-cluster-service';

const NOW = 1_800_000_000_000;

describe('budgie cluster', () => {
  let agent: FakeClusterService;
  const run = (...argv: string[]) => cli([...argv, '--socket', agent.socket], { now: () => NOW });

  beforeEach(async () => {
    agent = await FakeClusterService.start();
  });
  afterEach(() => agent.stop());

  it('init prints the token and the command to join with', async () => {
    const r = await run('cluster', 'init');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Created cluster cccccccccccc; this node is aaaaaaaaaaaa');
    expect(r.stdout).toContain('\n  BGT1.token\n');
    expect(r.stdout).toContain('budgie cluster join BGT1.token --peer 10.0.0.1:7447');
    expect(r.stderr).toBe('');
  });

  it('init on a member is one line and exit 1', async () => {
    const message =
      "this node is already in cluster cccccccccccc; run 'budgie cluster leave' first";
    agent.failures.init = new ConflictError(message);
    expect(await run('cluster', 'init')).toEqual({
      code: 1,
      stdout: '',
      stderr: `budgie: ${message}\n`,
    });
  });

  it('token prints the token; --rotate asks for a new one', async () => {
    expect(await run('cluster', 'token')).toEqual({ code: 0, stdout: 'BGT1.token\n', stderr: '' });
    await run('cluster', 'token', '--rotate');
    expect(agent.tokenRequests).toEqual([
      { rotate: false, ttlMs: 0 },
      { rotate: true, ttlMs: 0 },
    ]);
  });

  it('token --ttl asks for a token that expires, and says when', async () => {
    agent.tokenExpiresMs = Date.UTC(2026, 11, 8, 12);
    const r = await run('cluster', 'token', '--ttl', '1h');
    expect(r).toEqual({
      code: 0,
      stdout: 'BGT1.token\n',
      stderr: '(it expires at 2026-12-08T12:00:00.000Z)\n',
    });
    expect(agent.tokenRequests).toEqual([{ rotate: false, ttlMs: 3600_000 }]);
    for (const [ttl, why] of [
      ['soon', 'a number followed by ms, s, m or h, e.g. "30s" or "1m30s"'],
      ['10s', 'expected between 1m and 720h'],
    ]) {
      expect(await run('cluster', 'token', '--ttl', ttl!)).toEqual({
        code: 2,
        stdout: '',
        stderr: `budgie: --ttl "${ttl}": ${why}\n`,
      });
    }
  });

  it('remove sends the node and says what every member will do', async () => {
    expect(await run('cluster', 'remove', 'node-b')).toEqual({
      code: 0,
      stdout: `Removed ${'d'.repeat(12)}: every member refuses its certificate once it hears of it (at its next heartbeat).\n`,
      stderr: '',
    });
    expect(agent.removeRequests).toEqual([{ node: 'node-b' }]);
    agent.failures.remove = new FailedPreconditionError(
      "only the node that holds the cluster CA key (the one that ran 'budgie cluster init') can remove a member",
    );
    expect((await run('cluster', 'remove', 'node-b')).stderr).toBe(
      "budgie: only the node that holds the cluster CA key (the one that ran 'budgie cluster init') can remove a member\n",
    );
  });

  it('token on a node in no cluster says so', async () => {
    const message =
      "this node is not in a cluster; run 'budgie cluster init' or 'budgie cluster join TOKEN'";
    agent.failures.token = new FailedPreconditionError(message);
    const r = await run('cluster', 'token');
    expect(r).toEqual({ code: 1, stdout: '', stderr: `budgie: ${message}\n` });
  });

  it('join sends the token and --peer, and says through whom it joined', async () => {
    const r = await run('cluster', 'join', 'BGT1.x', '--peer', '10.0.0.9:7447');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'Joined cluster cccccccccccc through 10.0.0.9:7447; this node is bbbbbbbbbbbb.\n',
    );
    expect(agent.joinRequests).toEqual([{ token: 'BGT1.x', peer: '10.0.0.9:7447' }]);
  });

  it('join without --peer leaves the finding to the agent (mDNS)', async () => {
    await run('cluster', 'join', 'BGT1.x');
    expect(agent.joinRequests).toEqual([{ token: 'BGT1.x', peer: '' }]);
  });

  it.each([
    new InvalidInputError(
      'token: expected BGT1.<cluster>.<id>.<secret> (4 parts separated by "."), got 1 part',
    ),
    new PermissionDeniedError(
      'join: token refused (it is wrong, or it was rotated: ask a member for the current one)',
    ),
    new NotFoundError(
      "join: no member of cluster cccccccccccc answered on mDNS within 5s; give a member's address with --peer HOST:PORT",
    ),
  ])('join failures are one line and exit 1: %s', async (failure) => {
    agent.failures.join = failure;
    const r = await run('cluster', 'join', 'nope');
    expect(r).toEqual({ code: 1, stdout: '', stderr: `budgie: ${failure.message}\n` });
  });

  it('join without a token is a usage error', async () => {
    const r = await run('cluster', 'join');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('missing argument');
    expect(agent.calls).toEqual([]);
  });

  it('nodes lists self first and every member with state and last seen', async () => {
    agent.nodes = [
      node({
        nodeId: 'a'.repeat(64),
        name: 'node-a',
        self: true,
        lastSeenUnixMs: NOW,
        containers: 3,
      }),
      node({ nodeId: 'b'.repeat(64), name: 'node-b', address: '10.0.0.2:7447', containers: 0 }),
      node({
        nodeId: 'd'.repeat(64),
        name: 'node-d',
        address: '10.0.0.4:7447',
        state: NodeState.NODE_STATE_DEAD,
        lastSeenUnixMs: NOW - 120_000,
      }),
    ];
    const r = await run('cluster', 'nodes');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      'NODE ID               NAME     ADDRESS         STATE   LAST SEEN       CONTAINERS',
      'aaaaaaaaaaaa (self)   node-a   10.0.0.1:7447   alive   now             3',
      'bbbbbbbbbbbb          node-b   10.0.0.2:7447   alive   5 seconds ago   0',
      'dddddddddddd          node-d   10.0.0.4:7447   dead    2 minutes ago   -',
      '',
    ]);
  });

  it('nodes --format json has stable field names', async () => {
    agent.nodes = [node({ nodeId: 'b'.repeat(64), name: 'node-b', containers: 2 })];
    const r = await run('cluster', 'nodes', '--format', 'json');
    expect(JSON.parse(r.stdout)).toEqual([
      {
        nodeId: 'b'.repeat(64),
        name: 'node-b',
        address: '10.0.0.1:7447',
        state: 'alive',
        lastSeenUnixMs: NOW - 5000,
        self: false,
        containers: 2,
        clusterId: 'c'.repeat(64),
      },
    ]);
  });

  it('leave says so', async () => {
    expect(await run('cluster', 'leave')).toEqual({
      code: 0,
      stdout: 'Left the cluster (2 members told: they no longer trust this node).\n',
      stderr: '',
    });
    expect(agent.leaveRequests).toEqual([{ force: false }]);
    expect((await run('cluster', 'leave', '--force')).code).toBe(0);
    expect(agent.leaveRequests.at(-1)).toEqual({ force: true });
  });

  it('without an agent, says where it looked', async () => {
    const r = await cli(['cluster', 'nodes', '--socket', '/nonexistent/budgie.sock']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^budgie: no Budgie agent answers at \/nonexistent\/budgie.sock/);
  });

  it('without a subcommand, points at the help', async () => {
    const r = await run('cluster');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Run 'budgie cluster --help'");
  });
});

function node(overrides: Partial<ClusterNode>): ClusterNode {
  return {
    nodeId: 'a'.repeat(64),
    name: 'node-a',
    address: '10.0.0.1:7447',
    state: NodeState.NODE_STATE_ALIVE,
    lastSeenUnixMs: NOW - 5000,
    self: false,
    ...overrides,
  };
}
