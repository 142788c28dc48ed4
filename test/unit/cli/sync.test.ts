import type { VolumePeerSync, VolumeSyncStatus } from '../../../src/gen/budgie/v1/sync';
import { cli } from '../../support/cli';
import { FakeSyncService } from '../../support/fake-sync-service';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const NODE_B = 'b'.repeat(64);

function peer(overrides: Partial<VolumePeerSync> = {}): VolumePeerSync {
  return {
    nodeId: NODE_B,
    nodeName: 'node-b',
    inSync: true,
    behind: 0,
    syncedAtUnixMs: NOW - 2000,
    error: '',
    roundFiles: 0,
    roundBytes: 0,
    roundDoneFiles: 0,
    roundDoneBytes: 0,
    ...overrides,
  };
}

function volume(peers: VolumePeerSync[], overrides: Partial<VolumeSyncStatus> = {}) {
  return {
    app: 'web',
    target: '/data',
    dir: '/var/lib/budgie/volumes/web/0',
    files: 12,
    bytes: 3_150_000,
    sequence: 40,
    conflicts: [],
    receivedLiteralBytes: 0,
    receivedFileBytes: 0,
    receivedFiles: 0,
    peers,
    ...overrides,
  };
}

describe('budgie sync', () => {
  let agent: FakeSyncService;
  const run = (argv: string[], isTTY = false) => {
    let stdout = '';
    return cli([...argv, '--socket', agent.socket], {
      now: () => NOW,
      stdout: { write: (t) => (stdout += t), isTTY },
    }).then((r) => ({ ...r, stdout }));
  };

  beforeEach(async () => {
    agent = await FakeSyncService.start();
  });
  afterEach(() => agent.stop());

  it('status: one row per volume and member, behind in changes', async () => {
    agent.responses = [
      {
        volumes: [
          volume([
            peer(),
            peer({
              nodeId: 'c'.repeat(64),
              nodeName: 'node-c',
              inSync: false,
              behind: 37,
              syncedAtUnixMs: 0,
            }),
          ]),
        ],
      },
    ];
    const r = await run(['sync', 'status', 'web']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^APP\s+VOLUME\s+HERE\s+MEMBER\s+STATE\s+BEHIND\s+CONFLICTS\s+LAST SYNCED$/,
    );
    expect(lines[1]).toMatch(
      /^web\s+\/data\s+12 files, 3\.15MB\s+node-b\s+in sync\s+-\s+0\s+2 seconds ago$/,
    );
    expect(lines[2]).toMatch(/node-c\s+behind\s+37 changes\s+0\s+never$/);
    expect(agent.requests).toEqual([{ app: 'web' }]);
  });

  it('status on a terminal follows a round in progress with a bar until it is done', async () => {
    const mb = 1_000_000;
    const round = { inSync: false, behind: 3, roundFiles: 4, roundBytes: 8 * mb };
    agent.responses = [
      { volumes: [volume([peer({ ...round, roundDoneFiles: 1, roundDoneBytes: 2 * mb })])] },
      { volumes: [volume([peer({ ...round, roundDoneFiles: 3, roundDoneBytes: 6 * mb })])] },
      { volumes: [volume([peer()])] },
    ];
    const r = await run(['sync', 'status'], true);
    expect(r.code).toBe(0);
    expect(agent.requests).toHaveLength(3);
    expect(r.stdout).toContain('[=====               ] 1/4 files, 2.00MB/8.00MB');
    expect(r.stdout).toContain('[===============     ] 3/4 files, 6.00MB/8.00MB');
    // Each redraw moves up over the table before it (header and one row).
    expect(r.stdout.split('\x1b[2A\x1b[J')).toHaveLength(3);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/in sync\s+-\s+0\s+2 seconds ago$/);
  });

  it('status elsewhere prints once, even during a round', async () => {
    agent.responses = [
      { volumes: [volume([peer({ inSync: false, roundFiles: 2, roundBytes: 10 })])] },
    ];
    const r = await run(['sync', 'status']);
    expect(agent.requests).toHaveLength(1);
    expect(r.stdout).toContain('0/2 files');
  });

  it('conflicts: the copies with the node each came from, and how to resolve them', async () => {
    agent.responses = [
      {
        volumes: [
          volume([peer()], {
            conflicts: [
              {
                path: 'notes.sync-conflict-20240501-120000-bbbbbbb.txt',
                nodeId: NODE_B,
                nodeName: 'node-b',
              },
            ],
          }),
        ],
      },
    ];
    const r = await run(['sync', 'conflicts', 'web']);
    expect(r.stdout).toMatch(/\/data\s+notes\.sync-conflict-20240501-120000-bbbbbbb\.txt\s+node-b/);
    expect(r.stdout).toContain('delete or rename the copies');
  });

  it('status as JSON', async () => {
    agent.responses = [{ volumes: [volume([peer()])] }];
    const r = await run(['sync', 'status', '--format', 'json']);
    const parsed = JSON.parse(r.stdout) as { app: string; peers: { nodeName: string }[] }[];
    expect(parsed[0]?.app).toBe('web');
    expect(parsed[0]?.peers[0]?.nodeName).toBe('node-b');
  });
});
