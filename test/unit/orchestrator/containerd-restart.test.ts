import { Writable } from 'node:stream';
import winston from 'winston';
import type { Logger } from '../../../src/log';
import type { Replica } from '../../../src/orchestrator/replica';
import { Replica as ReplicaImpl } from '../../../src/orchestrator/replica';
import { compareWithRuntime } from '../../../src/orchestrator/resync';
import type { ContainerInfo } from '../../../src/runtime/containers';
import { app, startHarness, until, type Harness } from './harness';

interface Line {
  level: string;
  message: string;
  [field: string]: unknown;
}

/** A logger that keeps every line, to count what the orchestrator says and at which level. */
function recordingLogger(): { log: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Line);
      done();
    },
  });
  const log = winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream })],
  });
  return { log, lines };
}

describe('the orchestrator when containerd restarts', () => {
  let h: Harness;
  let lines: Line[];
  const count = (message: string, level?: string) =>
    lines.filter((l) => l.message === message && (level === undefined || l.level === level)).length;
  const running = () =>
    h.orchestrator
      .list(false)
      .filter((r) => r.state === 'running')
      .map((r) => r.id)
      .sort();

  beforeEach(async () => {
    const recorder = recordingLogger();
    lines = recorder.lines;
    // The periodic sync is out of the way: what is caught here, the events follower caught.
    h = await startHarness({
      log: recorder.log,
      syncIntervalMs: 60_000,
      eventsRetryMs: { base: 5, max: 20 },
    });
  });
  afterEach(() => h.close());

  it('retries quietly while it is down, then resyncs, replaces the dead and keeps the rest', async () => {
    const { replicaIds } = await h.run(app());
    const [dead = '', alive = ''] = replicaIds;
    h.runtime.setAvailable(false);
    h.runtime.exit(dead, 137); // nobody hears it
    await until(() => count('containerd events still unavailable', 'debug') >= 3, 'retries');
    // The last known state, while containerd cannot be asked.
    expect(running()).toEqual([...replicaIds].sort());
    expect(count('containerd events interrupted; reconnecting', 'warn')).toBe(1);

    h.runtime.setAvailable(true);
    await until(
      () => running().length === 2 && !running().includes(dead) && running().includes(alive),
      'the dead replica to be replaced',
    );
    expect(count('containerd events resumed', 'info')).toBe(1);
    expect(lines.find((l) => l.message === 'replica exited')).toMatchObject({
      replica: dead.slice(0, 12),
      code: 137,
      via: 'sync',
    });
    const containers = await h.runtime.list();
    expect(containers.map((c) => c.id).sort()).toEqual(running());

    // Events flow again: the next exit is heard at once, with no sync to help.
    h.runtime.exit(alive, 1);
    await until(() => running().length === 2 && !running().includes(alive), 'a replacement');
    expect(lines.filter((l) => l.message === 'replica exited').at(-1)).toMatchObject({
      replica: alive.slice(0, 12),
      via: 'event',
    });
    expect(count('containerd events interrupted; reconnecting')).toBe(1);
  });

  it('removes containers of its own that nobody tracks (a removal cut short by the restart)', async () => {
    await h.run(app());
    const orphan = 'f'.repeat(64);
    await h.runtime.create({
      id: orphan,
      image: 'docker.io/library/busybox:latest',
      labels: { 'budgie.app': 'web' },
      environment: [],
      volumes: [],
      logPath: '/dev/null',
    });
    await h.runtime.start(orphan);
    // A break of the stream makes the follower resync.
    h.runtime.setAvailable(false);
    h.runtime.setAvailable(true);
    for (let i = 0; i < 200 && (await h.runtime.list()).some((c) => c.id === orphan); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect((await h.runtime.list()).map((c) => c.id).sort()).toEqual(running());
  });
});

describe('compareWithRuntime', () => {
  const replica = (id: string): Replica => {
    const r = new ReplicaImpl({
      id,
      hash: 'h',
      imageName: 'busybox',
      createdMs: 0,
      logPath: `/tmp/${id}.log`,
      hasHealthcheck: false,
    });
    r.running(1);
    return r;
  };
  const info = (id: string, state: ContainerInfo['state'], extra = {}): ContainerInfo => ({
    id,
    image: 'busybox',
    labels: { 'budgie.app': 'web' },
    state,
    createdAtMs: 0,
    ...extra,
  });

  it('reports stopped, vanished and task-less replicas as exited, and untracked ones as orphans', () => {
    const ids = ['a1', 'b2', 'c3', 'd4', 'e5'];
    const replicas = new Map(ids.map((id) => [id, replica(id)]));
    const holder = { replicas };
    const before = [...replicas.values()].map((r) => ({ supervisor: holder, replica: r }));
    const diff = compareWithRuntime(
      before,
      new Set(ids),
      [
        info('a1', 'running'),
        info('b2', 'stopped', { exitCode: 2, exitedAtMs: 50 }),
        info('c3', 'created'), // its shim died: containerd deleted the task
        // d4 is gone altogether
        info('e5', 'paused'),
        info('ff', 'running'),
      ],
      99,
    );
    expect(diff.exited.map((e) => [e.replica.id, e.code, e.atMs])).toEqual([
      ['b2', 2, 50],
      ['c3', 255, 99],
      ['d4', 255, 99],
    ]);
    expect(diff.orphans.map((o) => o.id)).toEqual(['ff']);
  });

  it('leaves alone replicas that changed while containerd was listing', () => {
    const r = replica('a1');
    const holder = { replicas: new Map<string, Replica>() };
    const diff = compareWithRuntime([{ supervisor: holder, replica: r }], new Set(), [], 0);
    expect(diff.exited).toEqual([]);
  });
});
