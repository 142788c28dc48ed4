import { ConflictError } from '../errors';
import { PortProxy, type PortProxyOptions } from './port-proxy';
import type { Backend, ProxyProtocol, ProxyStats } from './types';

export interface PublishedPort {
  /** The app that publishes the port; another app asking for it gets a ConflictError. */
  owner: string;
  protocol: ProxyProtocol;
  port: number;
  host?: string;
  backends: readonly Backend[];
}

/** Backends on other nodes for one published port, used only while `owner` publishes it here. */
export interface RemoteBackends {
  owner: string;
  protocol: ProxyProtocol;
  port: number;
  backends: readonly Backend[];
}

export type ProxyDefaults = Omit<PortProxyOptions, 'protocol' | 'port' | 'host'>;

interface Entry {
  owner: string;
  host: string;
  proxy: PortProxy;
  ready: Promise<void>;
  /** The local replicas the owner last published; remote backends are added to these. */
  local: readonly Backend[];
  started: boolean;
}

/** The agent's proxies: one PortProxy per (protocol, host port), started on first publish. */
export class ProxyTable {
  private readonly entries = new Map<string, Entry>();
  private remote = new Map<string, RemoteBackends>();
  private readonly watchers = new Set<() => void>();

  constructor(private readonly defaults: ProxyDefaults) {}

  /** Starts the port's proxy if needed and sets its backends. Bind errors as PortProxy.start. */
  async publish(p: PublishedPort): Promise<PortProxy> {
    const key = `${p.port}/${p.protocol}`;
    const host = p.host ?? '0.0.0.0';
    let entry = this.entries.get(key);
    if (entry !== undefined && entry.owner !== p.owner) {
      throw new ConflictError(`port ${key} is already published by app "${entry.owner}"`);
    }
    if (entry !== undefined && entry.host !== host) {
      await this.unpublish(p.protocol, p.port, 0);
      entry = undefined;
    }
    if (entry === undefined) {
      const proxy = new PortProxy({ ...this.defaults, protocol: p.protocol, port: p.port, host });
      entry = { owner: p.owner, host, proxy, ready: proxy.start(), local: [], started: false };
      this.entries.set(key, entry);
    }
    const { proxy, ready } = entry;
    try {
      await ready;
    } catch (err) {
      if (this.entries.get(key) === entry) this.entries.delete(key);
      throw err;
    }
    // Every health probe republishes its app's ports: only a real change reaches the proxy and
    // the watchers, so that steady state costs nothing.
    const same = entry.started && sameBackends(entry.local, p.backends);
    entry.started = true;
    entry.local = p.backends;
    if (!same) {
      proxy.setBackends(this.backendsOf(key, entry));
      this.changed();
    }
    return proxy;
  }

  /** Every published port's local backends (remote ones left out). */
  local(): {
    owner: string;
    protocol: ProxyProtocol;
    port: number;
    backends: readonly Backend[];
  }[] {
    return [...this.entries.values()]
      .filter((e) => e.started)
      .map((e) => ({
        owner: e.owner,
        protocol: e.proxy.protocol,
        port: e.proxy.port,
        backends: e.local,
      }));
  }

  /**
   * Calls `listener` after every change of the local backends, synchronously with it, so that
   * whoever mirrors them (direct endpoints) drops a replica before it is stopped. Returns unwatch.
   */
  watch(listener: () => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  private changed(): void {
    for (const w of [...this.watchers]) w();
  }

  /**
   * Replaces every port's remote backends (the balancer's view of the cluster). A set for a port
   * this node does not publish, or publishes for another app, is kept but unused until it does.
   */
  setRemote(sets: readonly RemoteBackends[]): void {
    this.remote = new Map(sets.map((s) => [`${s.port}/${s.protocol}`, s]));
    for (const [key, entry] of this.entries) {
      if (entry.started) entry.proxy.setBackends(this.backendsOf(key, entry));
    }
  }

  private backendsOf(key: string, entry: Entry): Backend[] {
    const remote = this.remote.get(key);
    if (remote === undefined || remote.owner !== entry.owner) return [...entry.local];
    return [...entry.local, ...remote.backends];
  }

  /** Stops listening on the port; its connections get `drainTimeoutMs` to finish. */
  async unpublish(protocol: ProxyProtocol, port: number, drainTimeoutMs: number): Promise<void> {
    const key = `${port}/${protocol}`;
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.changed();
    await entry.ready.catch(() => undefined);
    await entry.proxy.close(drainTimeoutMs);
  }

  get(protocol: ProxyProtocol, port: number): PortProxy | undefined {
    return this.entries.get(`${port}/${protocol}`)?.proxy;
  }

  stats(): ProxyStats[] {
    return [...this.entries.values()].map((e) => e.proxy.stats());
  }

  async close(drainTimeoutMs = 0): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(
      entries.map(async (e) => {
        await e.ready.catch(() => undefined);
        await e.proxy.close(drainTimeoutMs);
      }),
    );
  }
}

function sameBackends(a: readonly Backend[], b: readonly Backend[]): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => {
      const y = b[i];
      return (
        y !== undefined &&
        x.id === y.id &&
        x.host === y.host &&
        x.port === y.port &&
        (x.healthy ?? true) === (y.healthy ?? true)
      );
    })
  );
}
