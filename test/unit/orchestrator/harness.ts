import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from '../../../src/bundle/types';
import { silentLogger } from '../../../src/log';
import type { Network, ReplicaNetwork } from '../../../src/network';
import { Orchestrator, type OrchestratorDeps, type RunResult } from '../../../src/orchestrator';
import { ProxyTable } from '../../../src/proxy';
import { FakeContainerRuntime } from '../../support/fakes/container-runtime';
import type {
  AppRecord,
  DesiredStateStore,
  HealthProbeOptions,
} from '../../../src/orchestrator/types';

/** Fakes and helpers the orchestrator's unit tests share. */
export class FakeNetwork implements Network {
  readonly attached = new Map<string, ReplicaNetwork>();
  private next = 2;
  attach(replicaId: string): Promise<ReplicaNetwork> {
    const known = this.attached.get(replicaId);
    if (known !== undefined) return Promise.resolve(known);
    const net = {
      replicaId,
      netnsPath: `/run/netns/${replicaId.slice(0, 12)}`,
      ip: `127.0.0.${this.next++}`,
      prefixLength: 8,
      gateway: '127.0.0.1',
      interface: 'eth0',
      bridge: 'fake0',
    };
    this.attached.set(replicaId, net);
    return Promise.resolve(net);
  }
  detach(replicaId: string): Promise<void> {
    this.attached.delete(replicaId);
    return Promise.resolve();
  }
  list(): Promise<string[]> {
    return Promise.resolve([...this.attached.keys()]);
  }
}

export class MemoryStore implements DesiredStateStore {
  readonly records = new Map<string, AppRecord>();
  save(record: AppRecord): Promise<void> {
    this.records.set(record.app.name, structuredClone(record));
    return Promise.resolve();
  }
  remove(name: string): Promise<void> {
    this.records.delete(name);
    return Promise.resolve();
  }
  get(name: string): Promise<AppRecord | undefined> {
    return Promise.resolve(this.records.get(name));
  }
  list(): Promise<AppRecord[]> {
    return Promise.resolve([...this.records.values()]);
  }
}

/** Health probes the test drives by hand. */
export class Probes {
  readonly live = new Map<string, HealthProbeOptions>();
  create = (options: HealthProbeOptions) => ({
    start: () => {
      this.live.set(options.host, options);
    },
    stop: () => {
      this.live.delete(options.host);
    },
  });
  setAll(state: 'healthy' | 'unhealthy', detail = ''): void {
    for (const p of this.live.values()) p.onChange(state, detail);
  }
}

export function app(overrides: Partial<App> = {}): App {
  return {
    version: '1.0',
    name: 'web',
    image: { kind: 'registry', reference: 'busybox' },
    ports: [],
    volumes: [],
    environment: [],
    replicas: { min: 2, max: 4 },
    restart: 'always',
    stopTimeoutMs: 1000,
    ...overrides,
  };
}

export const tick = () => new Promise((r) => setTimeout(r, 0));

export async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface Harness {
  dir: string;
  runtime: FakeContainerRuntime;
  network: FakeNetwork;
  store: MemoryStore;
  probes: Probes;
  proxies: ProxyTable;
  orchestrator: Orchestrator;
  run(a: App): Promise<RunResult>;
  close(): Promise<void>;
}

/** A started orchestrator on fakes, in a temp dir for its logs. */
export async function startHarness(
  overrides: Partial<OrchestratorDeps> = {},
  runtime = new FakeContainerRuntime(),
): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'budgie-orch-'));
  const network = new FakeNetwork();
  const store = new MemoryStore();
  const probes = new Probes();
  const proxies = new ProxyTable({ log: silentLogger() });
  const orchestrator = new Orchestrator({
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
    ...overrides,
  });
  await orchestrator.start();
  return {
    dir,
    runtime,
    network,
    store,
    probes,
    proxies,
    orchestrator,
    run: (a) =>
      orchestrator.run(a, {
        detach: false,
        signal: new AbortController().signal,
        onEvent: () => undefined,
      }),
    close: async () => {
      orchestrator.close();
      await proxies.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
