import { InvalidInputError } from '../errors';
import type { Backend, BackendStats, Lease } from './types';

/** One backend as the pool tracks it. A re-added id after a drain is a new entry. */
export class BackendEntry {
  readonly leases = new Set<Lease>();
  total = 0;
  connectFailures = 0;
  /** Tried only after the others until this time (passive health after a failed connect). */
  coolingUntil = 0;
  draining = false;
  /** Aborts when the backend leaves rotation: connects still pending to it are abandoned. */
  private readonly rotation = new AbortController();
  private drained: Promise<void> | undefined;
  private finishDrain: (() => void) | undefined;
  private cutTimer: NodeJS.Timeout | undefined;
  private cutAt = Infinity;

  constructor(
    readonly backend: Backend,
    public healthy: boolean,
  ) {}

  stats(now: number): BackendStats {
    const { id, host, port } = this.backend;
    const state = this.draining
      ? 'draining'
      : !this.healthy
        ? 'unhealthy'
        : this.coolingUntil > now
          ? 'cooling'
          : 'ready';
    const { total, connectFailures } = this;
    return { id, host, port, state, active: this.leases.size, total, connectFailures };
  }

  /**
   * Resolves once its last lease is released; cuts the rest after `timeoutMs`. Draining again
   * can only bring the cut closer.
   */
  drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    this.rotation.abort();
    if (this.drained === undefined) {
      this.drained = new Promise((resolve) => (this.finishDrain = resolve));
      if (this.leases.size === 0) this.finish();
    }
    const at = Date.now() + timeoutMs;
    if (this.finishDrain !== undefined && at < this.cutAt) {
      this.cutAt = at;
      clearTimeout(this.cutTimer);
      this.cutTimer = setTimeout(() => {
        for (const lease of [...this.leases]) lease.destroy();
        this.leases.clear();
        this.finish();
      }, timeoutMs);
    }
    return this.drained;
  }

  /** Aborts once the backend is drained or removed; pass it to connects to it. */
  get leftRotation(): AbortSignal {
    return this.rotation.signal;
  }

  release(lease: Lease): void {
    if (this.leases.delete(lease) && this.leases.size === 0 && this.draining) this.finish();
  }

  private finish(): void {
    clearTimeout(this.cutTimer);
    this.finishDrain?.();
    this.finishDrain = undefined;
  }
}

export interface BackendPoolOptions {
  /** How long a backend whose connect failed is tried only after the others. */
  failCooldownMs: number;
  now: () => number;
}

/**
 * The live backend set of one published port: round-robin order, passive health, draining.
 * Backends removed by `set` drain in the background for `drainTimeoutMs`.
 */
export class BackendPool {
  private live: BackendEntry[] = [];
  private readonly draining = new Set<BackendEntry>();
  private cursor = 0;

  constructor(private readonly options: BackendPoolOptions) {}

  /** Replaces the backend set; removed or re-addressed backends drain in the background. */
  set(backends: readonly Backend[], drainTimeoutMs: number): void {
    validate(backends);
    const old = new Map(this.live.map((e) => [e.backend.id, e]));
    const next: BackendEntry[] = [];
    for (const b of backends) {
      const healthy = b.healthy ?? true;
      const entry = old.get(b.id);
      if (entry !== undefined && entry.backend.host === b.host && entry.backend.port === b.port) {
        entry.healthy = healthy;
        old.delete(b.id);
        next.push(entry);
      } else {
        next.push(new BackendEntry(b, healthy));
      }
    }
    this.live = next;
    for (const entry of old.values()) void this.startDrain(entry, drainTimeoutMs);
  }

  /** Resolves once every drain in progress now has finished. */
  async drained(): Promise<void> {
    await Promise.all([...this.draining].map((e) => e.drain(Infinity)));
  }

  /**
   * Drains one backend; one already draining (removed by `set`) gets its cut brought closer.
   * Resolves at once when the id is neither live nor draining.
   */
  drain(id: string, timeoutMs: number): Promise<void> {
    const drains = [...this.draining]
      .filter((e) => e.backend.id === id)
      .map((e) => e.drain(timeoutMs));
    const entry = this.live.find((e) => e.backend.id === id);
    if (entry !== undefined) {
      this.live = this.live.filter((e) => e !== entry);
      drains.push(this.startDrain(entry, timeoutMs));
    }
    return Promise.all(drains).then(() => {});
  }

  drainAll(timeoutMs: number): Promise<void> {
    const drains = this.live.map((e) => this.startDrain(e, timeoutMs));
    this.live = [];
    return Promise.all([...drains, ...[...this.draining].map((e) => e.drain(timeoutMs))]).then(
      () => {},
    );
  }

  /**
   * The order to try backends in for one new connection: healthy ones round-robin from the
   * cursor, those that failed recently last. Empty when none may take new connections.
   */
  candidates(): BackendEntry[] {
    const n = this.live.length;
    if (n === 0) return [];
    const start = this.cursor % n;
    this.cursor = start + 1;
    const now = this.options.now();
    const ready: BackendEntry[] = [];
    const cooling: BackendEntry[] = [];
    for (let i = 0; i < n; i++) {
      const e = this.live[(start + i) % n];
      if (e?.healthy === true) (e.coolingUntil > now ? cooling : ready).push(e);
    }
    return cooling.length === 0 ? ready : ready.concat(cooling);
  }

  /**
   * Records a failed connect: the backend goes to the back of the line for a while. True when
   * it was not cooling already, so callers log a failing backend once, not once per connection.
   */
  failed(entry: BackendEntry): boolean {
    const now = this.options.now();
    const wasCooling = entry.coolingUntil > now;
    entry.connectFailures++;
    entry.coolingUntil = now + this.options.failCooldownMs;
    return !wasCooling;
  }

  acquire(entry: BackendEntry, lease: Lease): void {
    entry.coolingUntil = 0;
    entry.total++;
    entry.leases.add(lease);
  }

  stats(): BackendStats[] {
    const now = this.options.now();
    return [...this.live, ...this.draining].map((e) => e.stats(now));
  }

  private startDrain(entry: BackendEntry, timeoutMs: number): Promise<void> {
    this.draining.add(entry);
    return entry.drain(timeoutMs).then(() => {
      this.draining.delete(entry);
    });
  }
}

function validate(backends: readonly Backend[]): void {
  const seen = new Set<string>();
  backends.forEach((b, i) => {
    if (seen.has(b.id)) throw new InvalidInputError(`backends[${i}].id: duplicate id "${b.id}"`);
    seen.add(b.id);
    if (!Number.isInteger(b.port) || b.port < 1 || b.port > 65535) {
      throw new InvalidInputError(`backends[${i}].port: expected 1-65535, got ${b.port}`);
    }
    if (b.host === '') throw new InvalidInputError(`backends[${i}].host: must not be empty`);
  });
}
