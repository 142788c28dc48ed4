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

export type ProxyDefaults = Omit<PortProxyOptions, 'protocol' | 'port' | 'host'>;

interface Entry {
  owner: string;
  host: string;
  proxy: PortProxy;
  ready: Promise<void>;
}

/** The agent's proxies: one PortProxy per (protocol, host port), started on first publish. */
export class ProxyTable {
  private readonly entries = new Map<string, Entry>();

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
      entry = { owner: p.owner, host, proxy, ready: proxy.start() };
      this.entries.set(key, entry);
    }
    const { proxy, ready } = entry;
    try {
      await ready;
    } catch (err) {
      if (this.entries.get(key) === entry) this.entries.delete(key);
      throw err;
    }
    proxy.setBackends(p.backends);
    return proxy;
  }

  /** Stops listening on the port; its connections get `drainTimeoutMs` to finish. */
  async unpublish(protocol: ProxyProtocol, port: number, drainTimeoutMs: number): Promise<void> {
    const key = `${port}/${protocol}`;
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
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
