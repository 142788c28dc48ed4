import { Health, ReplicaState } from '../../../src/gen/budgie/v1/apps';
import { cli } from '../../support/cli';
import { FakeAppService, replica } from '../../support/fake-app-service';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ID_A = '3f2a9c1b7d0e'.padEnd(64, 'a');
const ID_B = '9bc1d2e3f4a5'.padEnd(64, 'b');

describe('budgie ps', () => {
  let agent: FakeAppService;
  const ps = (...argv: string[]) =>
    cli(['ps', ...argv, '--socket', agent.socket], { now: () => NOW });

  beforeAll(async () => {
    agent = await FakeAppService.start();
    agent.replicas = [
      replica({
        id: ID_A,
        state: ReplicaState.REPLICA_STATE_RUNNING,
        createdUnixMs: NOW - 200_000,
        startedUnixMs: NOW - 190_000,
        health: Health.HEALTH_HEALTHY,
        ports: [
          { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
          { hostPort: 53, containerPort: 53, protocol: 'udp' },
        ],
        ip: '10.88.0.2',
      }),
      replica({
        id: ID_B,
        app: 'worker',
        image: 'docker.io/library/busybox:latest',
        state: ReplicaState.REPLICA_STATE_EXITED,
        exitCode: 137,
        createdUnixMs: NOW - 60_000,
        startedUnixMs: NOW - 50_000,
        finishedUnixMs: NOW - 10_000,
        health: Health.HEALTH_UNHEALTHY,
        healthDetail: 'GET /healthz: 503',
      }),
      replica({
        id: 'c'.repeat(64),
        state: ReplicaState.REPLICA_STATE_CREATED,
        health: Health.HEALTH_STARTING,
      }),
      replica({ id: 'd'.repeat(64), state: ReplicaState.REPLICA_STATE_STOPPING }),
    ];
  });
  afterAll(() => agent.stop());

  it('prints a table', async () => {
    const r = await ps('--all');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'ID             APP      IMAGE                              STATUS                 HEALTH      PORTS                      NODE',
        '3f2a9c1b7d0e   webapp   docker.io/library/nginx:alpine     running 3m             healthy     8080->80/tcp, 53->53/udp   node-a',
        '9bc1d2e3f4a5   worker   docker.io/library/busybox:latest   exited (137) 10s ago   unhealthy                              node-a',
        'cccccccccccc   webapp   docker.io/library/nginx:alpine     created                starting                               node-a',
        'dddddddddddd   webapp   docker.io/library/nginx:alpine     stopping               -                                      node-a',
        '',
      ].join('\n'),
    );
    expect(agent.listRequests.at(-1)).toEqual({ all: true, app: '' });
  });

  it('asks for running replicas of one app', async () => {
    await ps('--app', 'webapp');
    expect(agent.listRequests.at(-1)).toEqual({ all: false, app: 'webapp' });
  });

  it('prints JSON with stable field names', async () => {
    const r = await ps('--format', 'json');
    const rows: unknown = JSON.parse(r.stdout);
    expect(Array.isArray(rows) && rows.length).toBe(4);
    expect((rows as unknown[]).slice(0, 2)).toEqual([
      {
        id: ID_A,
        app: 'webapp',
        image: 'docker.io/library/nginx:alpine',
        state: 'running',
        exitCode: null,
        createdAt: '2024-05-01T11:56:40.000Z',
        startedAt: '2024-05-01T11:56:50.000Z',
        finishedAt: null,
        health: 'healthy',
        healthDetail: null,
        ports: [
          { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
          { hostPort: 53, containerPort: 53, protocol: 'udp' },
        ],
        node: 'node-a',
        ip: '10.88.0.2',
      },
      {
        id: ID_B,
        app: 'worker',
        image: 'docker.io/library/busybox:latest',
        state: 'exited',
        exitCode: 137,
        createdAt: '2024-05-01T11:59:00.000Z',
        startedAt: '2024-05-01T11:59:10.000Z',
        finishedAt: '2024-05-01T11:59:50.000Z',
        health: 'unhealthy',
        healthDetail: 'GET /healthz: 503',
        ports: [],
        node: 'node-a',
        ip: null,
      },
    ]);
  });

  it('refuses an unknown format', async () => {
    const r = await ps('--format', 'yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('format');
  });
});
