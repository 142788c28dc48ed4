import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from '../../../src/bundle/types';
import { silentLogger } from '../../../src/log';
import { Orchestrator } from '../../../src/orchestrator';
import type { RunEvent } from '../../../src/orchestrator/types';
import { ProxyTable } from '../../../src/proxy';
import { FakeContainerRuntime } from '../../support/fakes/container-runtime';
import { app, FakeNetwork, MemoryStore, Probes, tick, until } from './harness';

describe('Orchestrator on fakes', () => {
  let dir: string;
  let runtime: FakeContainerRuntime;
  let network: FakeNetwork;
  let store: MemoryStore;
  let probes: Probes;
  let proxies: ProxyTable;
  let orchestrator: Orchestrator;
  const events: RunEvent[] = [];

  const make = () =>
    new Orchestrator({
      nodeName: 'node-a',
      logDir: dir,
      runtime,
      images: { ensure: () => Promise.resolve('docker.io/library/busybox:latest') },
      network,
      proxies,
      store,
      probes: probes.create,
      publishAddress: '127.0.0.1',
      log: silentLogger(),
      syncIntervalMs: 50,
    });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'budgie-orch-'));
    runtime = new FakeContainerRuntime();
    network = new FakeNetwork();
    store = new MemoryStore();
    probes = new Probes();
    proxies = new ProxyTable({ log: silentLogger() });
    orchestrator = make();
    await orchestrator.start();
    events.length = 0;
  });

  afterEach(async () => {
    orchestrator.close();
    await proxies.close();
    await rm(dir, { recursive: true, force: true });
  });

  const run = (a: App, detach = false) =>
    orchestrator.run(a, {
      detach,
      signal: new AbortController().signal,
      onEvent: (e) => events.push(e),
    });

  it('starts replicas.min replicas, stores the desired state, and reports them', async () => {
    const result = await run(app());
    expect(result.changed).toBe(true);
    expect(result.replicaIds).toHaveLength(2);
    expect(result.replicaIds.every((id) => /^[0-9a-f]{64}$/.test(id))).toBe(true);
    expect(store.records.get('web')?.scale).toBe(2);
    const listed = orchestrator.list(false);
    expect(listed.map((r) => r.state)).toEqual(['running', 'running']);
    const created = runtime.createdWith(result.replicaIds[0]!);
    expect(created.labels).toMatchObject({ 'budgie.app': 'web', 'budgie.node': 'node-a' });
    expect(created.hostname).toBe(result.replicaIds[0]!.slice(0, 12));
    expect(events.some((e) => e.type === 'replica')).toBe(true);
  });

  it('is a no-op when the same app runs again, and rolls a changed one', async () => {
    const first = await run(app());
    const again = await run(app());
    expect(again.changed).toBe(false);
    expect(again.replicaIds.sort()).toEqual(first.replicaIds.sort());
    const changed = await run(app({ environment: [{ name: 'V', value: '2' }] }));
    expect(changed.changed).toBe(true);
    await until(
      () =>
        orchestrator.list(false).length === 2 &&
        orchestrator.list(false).every((r) => !first.replicaIds.includes(r.id)),
      'the old replicas to be replaced',
    );
  });

  it('waits for healthy replicas and fails with the healthcheck error when they never are', async () => {
    const withCheck = app({
      ports: [{ containerPort: 80, hostPort: 0, protocol: 'tcp' }],
      healthcheck: { path: '/health', intervalMs: 100, timeoutMs: 50, retries: 1 },
    });
    withCheck.ports = [
      { containerPort: 80, hostPort: 39000 + (process.pid % 1000), protocol: 'tcp' },
    ];
    const pending = run(withCheck);
    await until(() => probes.live.size === 2, 'two probes');
    probes.setAll('unhealthy', 'GET http://127.0.0.2:80/health: HTTP 500');
    await expect(pending).rejects.toThrow(/healthcheck failed: GET .*HTTP 500/);
  });

  it('replaces a replica that exits, keeping replicas.min', async () => {
    const { replicaIds } = await run(app());
    runtime.exit(replicaIds[0]!, 137);
    await until(
      () =>
        orchestrator.list(false).filter((r) => r.state === 'running').length === 2 &&
        !orchestrator.list(false).some((r) => r.id === replicaIds[0]),
      'a replacement',
    );
    expect(network.attached.has(replicaIds[0]!)).toBe(false);
  });

  it('leaves an exited replica alone with restart: never', async () => {
    const { replicaIds } = await run(app({ restart: 'never', replicas: { min: 1, max: 1 } }));
    runtime.exit(replicaIds[0]!, 3);
    await until(() => orchestrator.list(true)[0]?.state === 'exited', 'the exit');
    await new Promise((r) => setTimeout(r, 100));
    expect(orchestrator.list(true)).toHaveLength(1);
    expect(orchestrator.list(true)[0]?.exitCode).toBe(3);
    expect(orchestrator.list(false)).toHaveLength(0);
  });

  it('stops a whole app by name and a replica by unique prefix', async () => {
    const { replicaIds } = await run(app({ replicas: { min: 1, max: 3 } }));
    await orchestrator.scale('web', 3);
    await until(
      () => orchestrator.list(false).filter((r) => r.state === 'running').length === 3,
      'scale 3',
    );
    const one = orchestrator.list(false)[1]!.id;
    const stopped = await orchestrator.stop(one.slice(0, 10));
    expect(stopped.stoppedIds).toEqual([one]);
    expect(store.records.get('web')?.scale).toBe(2);
    const all = await orchestrator.stop('web');
    expect(all.app).toBe('web');
    expect(orchestrator.list(true)).toEqual([]);
    expect(store.records.has('web')).toBe(false);
    expect(network.attached.size).toBe(0);
    expect(replicaIds).toHaveLength(1);
  });

  it('runs stand-ins on top of its scale, within max, kept across restarts and scaling', async () => {
    await orchestrator.run(app({ replicas: { min: 1, max: 3 } }), {
      detach: false,
      clusterMin: 2,
      signal: new AbortController().signal,
      onEvent: () => undefined,
    });
    expect(orchestrator.counts()).toEqual([
      { app: 'web', scale: 1, standIns: 0, clusterMin: 2, max: 3, live: 1 },
    ]);
    expect(await orchestrator.setStandIns('web', 5)).toBe(2);
    await until(() => orchestrator.list(false).length === 3, 'two stand-ins');
    expect(store.records.get('web')).toMatchObject({ scale: 1, standIns: 2, clusterMin: 2 });
    // Scaling up leaves room within max only: stand-ins give way.
    await orchestrator.scale('web', 2);
    expect(store.records.get('web')).toMatchObject({ scale: 2, standIns: 1 });
    expect(await orchestrator.setStandIns('web', 0)).toBe(0);
    await until(() => orchestrator.list(false).length === 2, 'the stand-ins to go');
    expect(orchestrator.counts()[0]).toMatchObject({ scale: 2, standIns: 0, live: 2 });
    // An app that is gone is left alone.
    await orchestrator.stop('web');
    expect(await orchestrator.setStandIns('web', 1)).toBe(0);
    expect(store.records.has('web')).toBe(false);
  });

  it('names the problem with an unknown target, an ambiguous prefix and a bad scale', async () => {
    await run(app());
    await expect(orchestrator.stop('nope')).rejects.toThrow(/no app or replica named nope/);
    await expect(orchestrator.stop('')).rejects.toThrow();
    await expect(orchestrator.scale('web', 9)).rejects.toThrow(
      /replicas: expected an integer from 2 to 4/,
    );
    await expect(orchestrator.scale('db', 2)).rejects.toThrow(/no app named db/);
  });

  it('re-adopts running replicas after a restart and starts none twice', async () => {
    const { replicaIds } = await run(app());
    orchestrator.close();
    await proxies.close();
    proxies = new ProxyTable({ log: silentLogger() });
    orchestrator = make();
    await orchestrator.start();
    await tick();
    await new Promise((r) => setTimeout(r, 50));
    expect(
      orchestrator
        .list(false)
        .map((r) => r.id)
        .sort(),
    ).toEqual([...replicaIds].sort());
    expect((await runtime.list()).length).toBe(2);
  });

  it('removes containers of apps nobody wants any more on start', async () => {
    await run(app());
    orchestrator.close();
    store.records.clear();
    orchestrator = make();
    await orchestrator.start();
    expect(await runtime.list()).toEqual([]);
    expect(network.attached.size).toBe(0);
  });
});
