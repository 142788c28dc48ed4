import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError, PermissionDeniedError } from '../../../src/errors';
import { silentLogger } from '../../../src/log';
import { SyncEngine, type SyncMember } from '../../../src/sync';

let base: string;
let engine: SyncEngine | undefined;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'budgie-sync-engine-'));
});
afterEach(async () => {
  await engine?.close();
  await rm(base, { recursive: true, force: true });
});

function start(running: SyncMember[]): SyncEngine {
  engine = new SyncEngine({
    stateDir: base,
    log: silentLogger(),
    sources: {
      selfId: () => 'self',
      volumes: () => [{ app: 'web', target: '/data', dir: join(base, 'data') }],
      membersRunning: () => running,
      peer: (member) => ({
        nodeId: member.nodeId,
        // A member that never answers: the engine's loops just wait.
        changes: (_q, signal) =>
          new Promise((_resolve, reject) => {
            signal.addEventListener('abort', () => {
              reject(new Error('aborted'));
            });
          }),
        fetch: () => {
          throw new Error('not asked');
        },
        fetchFiles: () => {
          throw new Error('not asked');
        },
      }),
    },
  });
  engine.reconcile();
  return engine;
}

it('serves a volume only to members that run the app, or that were given it to join', () => {
  const e = start([{ nodeId: 'runs-it', address: '192.0.2.1:7447' }]);
  expect(e.volumeFor('runs-it', 'web', '/data').target).toBe('/data');
  expect(() => e.volumeFor('other', 'web', '/data')).toThrow(PermissionDeniedError);
  e.grantJoin('other', 'web');
  expect(e.volumeFor('other', 'web', '/data').app).toBe('web');
  expect(() => e.volumeFor('runs-it', 'web', '/etc')).toThrow(NotFoundError);
  expect(() => e.volumeFor('runs-it', 'db', '/data')).toThrow(NotFoundError);
});

it('status lists the synced volumes with one row per member', async () => {
  const e = start([{ nodeId: 'm1', address: '192.0.2.1:7447' }]);
  await new Promise((r) => setTimeout(r, 100));
  const [v] = e.status();
  expect(v).toMatchObject({ app: 'web', target: '/data', files: 0, conflicts: [] });
  expect(v?.peers).toMatchObject([{ nodeId: 'm1', inSync: false, syncedAtMs: 0 }]);
  expect(e.status('db')).toEqual([]);
});
