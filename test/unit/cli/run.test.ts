import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle } from '../../../src/bundle';
import { NotFoundError } from '../../../src/errors';
import { Health, ReplicaState, type RunAppResponse } from '../../../src/gen/budgie/v1/apps';
import { LayerState } from '../../../src/gen/budgie/v1/images';
import { cli } from '../../support/cli';
import { FakeAppService, replica } from '../../support/fake-app-service';

const BUNDLES = join(__dirname, '..', '..', 'fixtures', 'bundles');
const MINIMAL = join(BUNDLES, 'valid', 'minimal.bun');
const ID_A = 'a'.repeat(64);
const ID_B = 'b'.repeat(64);

const done = (ids: string[], changed = true): RunAppResponse => ({
  event: { $case: 'done', value: { app: 'minimal', replicaIds: ids, changed } },
});

describe('budgie run', () => {
  let agent: FakeAppService;
  let dir: string;
  const run = (...argv: string[]) => cli(['run', ...argv, '--socket', agent.socket]);

  beforeEach(async () => {
    agent = await FakeAppService.start();
    dir = await mkdtemp(join(tmpdir(), 'budgie-run-'));
  });
  afterEach(async () => {
    await agent.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends the normalised app and shows progress, replica states and the result', async () => {
    const starting = replica({ id: ID_A, health: Health.HEALTH_STARTING });
    agent.runEvents = [
      { event: { $case: 'phase', value: 'pulling busybox' } },
      {
        event: {
          $case: 'layer',
          value: {
            digest: `sha256:${'d'.repeat(64)}`,
            size: 10,
            done: 10,
            state: LayerState.LAYER_STATE_DOWNLOADED,
          },
        },
      },
      { event: { $case: 'replica', value: starting } },
      { event: { $case: 'replica', value: starting } },
      { event: { $case: 'replica', value: { ...starting, health: Health.HEALTH_HEALTHY } } },
      {
        event: {
          $case: 'replica',
          value: replica({ id: ID_B, state: ReplicaState.REPLICA_STATE_CREATED }),
        },
      },
      done([ID_A, ID_B]),
    ];
    const r = await run(MINIMAL);
    expect(r.stderr).toBe(
      [
        'pulling busybox',
        'dddddddddddd: downloaded',
        'replica aaaaaaaaaaaa running, starting',
        'replica aaaaaaaaaaaa running, healthy',
        'replica bbbbbbbbbbbb created',
        '',
      ].join('\n'),
    );
    expect(r).toMatchObject({
      code: 0,
      stdout: 'minimal: 2 replicas running (aaaaaaaaaaaa, bbbbbbbbbbbb)\n',
    });
    expect(agent.runRequests).toHaveLength(1);
    const sent = agent.runRequests[0]!;
    expect(sent.detach).toBe(false);
    expect(JSON.parse(sent.appJson)).toEqual(await loadBundle(MINIMAL));
    expect(JSON.parse(sent.appJson)).toMatchObject({
      name: 'minimal',
      image: { kind: 'registry', reference: 'busybox' },
      replicas: { min: 1, max: 1 },
    });
  });

  it('passes --detach and says the app starts in the background', async () => {
    agent.runEvents = [done([ID_A])];
    const r = await run(MINIMAL, '--detach');
    expect(agent.runRequests[0]?.detach).toBe(true);
    expect(r.stdout).toBe("minimal: starting in the background (aaaaaaaaaaaa); see 'budgie ps'\n");
  });

  it('says so when the app already runs as described', async () => {
    agent.runEvents = [done([ID_A, ID_B], false)];
    const r = await run(MINIMAL);
    expect(r).toMatchObject({
      code: 0,
      stdout: 'minimal is already running as described (2 replicas)\n',
    });
  });

  it('refuses an invalid .bun like validate does, without calling the agent', async () => {
    const file = join(BUNDLES, 'invalid', 'bad-ports.bun');
    const r = await run(file);
    const validate = await cli(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(validate.stderr);
    expect(r.stderr).toMatch(/^budgie: .*bad-ports\.bun:7:16: ports\[0\]\.host_port: /);
    expect(r.stderr.split('\n').filter((l) => /bad-ports\.bun:\d+:\d+: /.test(l))).toHaveLength(6);
    expect(agent.calls).toEqual([]);
  });

  it('imports a local image archive first, then runs the imported image', async () => {
    await writeFile(join(dir, 'app.tar'), Buffer.alloc(300_000, 7));
    const bun = join(dir, 'local.bun');
    await writeFile(bun, 'version: "1.0"\nname: local\nimage:\n  oci_archive: app.tar\n');
    agent.importedName = 'docker.io/library/local:1';
    agent.runEvents = [done([ID_A])];
    const r = await run(bun);
    expect(r.code).toBe(0);
    expect(agent.calls).toEqual(['importImage', 'runApp']);
    expect(agent.imports).toEqual([{ fileName: 'app.tar', bytes: 300_000 }]);
    expect(r.stderr).toContain('importing app.tar\n');
    expect(JSON.parse(agent.runRequests[0]!.appJson)).toMatchObject({
      name: 'local',
      image: { kind: 'registry', reference: 'docker.io/library/local:1' },
    });
  });

  it('names a missing image archive instead of calling it a bug', async () => {
    const bun = join(dir, 'gone.bun');
    await writeFile(bun, 'version: "1.0"\nname: gone\nimage:\n  oci_archive: gone.tar\n');
    const r = await run(bun);
    expect(r).toMatchObject({
      code: 1,
      stderr: `budgie: ${join(dir, 'gone.tar')}: no such image archive\n`,
    });
    expect(agent.calls).not.toContain('runApp');
  });

  it("prints the agent's error in one line", async () => {
    agent.failures.runApp = new NotFoundError('image busybox not found');
    const r = await run(MINIMAL);
    expect(r).toMatchObject({ code: 1, stderr: 'budgie: image busybox not found\n' });
  });

  it('fails clearly when the stream ends without a result', async () => {
    agent.runEvents = [{ event: { $case: 'phase', value: 'starting' } }];
    const r = await run(MINIMAL);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('budgie: the agent ended the run of minimal without a result');
  });
});
