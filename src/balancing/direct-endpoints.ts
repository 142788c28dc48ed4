import { messageOf } from '../errors';
import type { Logger } from '../log';
import type { Backend, ProxyProtocol } from '../proxy';

/** One published port's local replicas as the proxy table forwards to them. */
export interface LocalPort {
  protocol: ProxyProtocol;
  /** The host port. */
  port: number;
  /** The local replicas (id = replica id) that get the port's traffic, healthy or not. */
  backends: readonly Backend[];
}

/** A replica whose endpoints a listing wants (the orchestrator's ReplicaView fits). */
export interface ReplicaPorts {
  id: string;
  ports: readonly { hostPort: number; protocol: ProxyProtocol }[];
}

/** One listener forwarding to a single backend; PortProxy is the real one. */
export interface Endpoint {
  readonly port: number;
  setBackends(backends: readonly Backend[]): void;
  close(drainTimeoutMs?: number): Promise<void>;
}

/** Binds a listener on `host`, port 0 (the system picks one). Rejects when it cannot bind. */
export type OpenEndpoint = (protocol: ProxyProtocol, host: string) => Promise<Endpoint>;

export interface DirectEndpointsOptions {
  /** The address members reach this node at (its advertise address); listeners bind to it. */
  host: string;
  open: OpenEndpoint;
  log: Logger;
  /** How long connections through an endpoint whose replica went may finish. Default 10 s. */
  drainTimeoutMs?: number;
}

interface Slot {
  protocol: ProxyProtocol;
  ready: Promise<Endpoint | undefined>;
  endpoint: Endpoint | undefined;
}

/**
 * One listener per (local replica, published port) that forwards only to that replica. Members
 * balance over these rather than over this node's published port: a connection that came from
 * another node's proxy then reaches exactly one replica and can never be balanced again, so there
 * is at most one proxy hop and no loop. What it exposes is what the published port exposes.
 */
export class DirectEndpoints {
  private readonly slots = new Map<string, Slot>();
  private closed = false;

  constructor(private readonly options: DirectEndpointsOptions) {}

  /**
   * Mirrors the local backends of the published ports: opens an endpoint per new one, passes
   * health on, and stops accepting at once on those of replicas that are gone or stopping (the
   * proxy table drops a replica before it is stopped, so members get refused, not cut).
   */
  async sync(ports: readonly LocalPort[]): Promise<void> {
    if (this.closed) return;
    const wanted = new Map<string, { protocol: ProxyProtocol; backend: Backend }>();
    for (const p of ports) {
      for (const b of p.backends) {
        wanted.set(slotKey(b.id, p.protocol, p.port), { protocol: p.protocol, backend: b });
      }
    }
    const drainMs = this.options.drainTimeoutMs ?? 10_000;
    for (const [key, slot] of this.slots) {
      if (wanted.has(key)) continue;
      this.slots.delete(key);
      // Not awaited: the drain may take drainMs, and other endpoints must not wait for it.
      void slot.ready.then((e) => e?.close(drainMs));
    }
    const opening: Promise<unknown>[] = [];
    for (const [key, { protocol, backend }] of wanted) {
      let slot = this.slots.get(key);
      if (slot === undefined) {
        const created: Slot = { protocol, endpoint: undefined, ready: Promise.resolve(undefined) };
        created.ready = this.options.open(protocol, this.options.host).then(
          (e) => {
            created.endpoint = e;
            return e;
          },
          (err: unknown) => {
            // Dropped so the next sync tries again; members meanwhile see no endpoint for it.
            this.options.log.warn('could not open direct endpoint', { err: messageOf(err) });
            if (this.slots.get(key) === created) this.slots.delete(key);
            return undefined;
          },
        );
        this.slots.set(key, created);
        slot = created;
      }
      opening.push(slot.ready.then((e) => e?.setBackends([backend])));
    }
    await Promise.all(opening);
  }

  /**
   * HOST:PORT ("/udp" for UDP) of the replica's endpoint for each of `ports`, in their order;
   * '' where none is open (yet).
   */
  endpointsOf(replica: ReplicaPorts): string[] {
    return replica.ports.map((p) => {
      const e = this.slots.get(slotKey(replica.id, p.protocol, p.hostPort))?.endpoint;
      if (e === undefined) return '';
      return `${this.options.host}:${e.port}${p.protocol === 'udp' ? '/udp' : ''}`;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = [...this.slots.values()];
    this.slots.clear();
    await Promise.all(slots.map((s) => s.ready.then((e) => e?.close(0))));
  }
}

function slotKey(id: string, protocol: ProxyProtocol, hostPort: number): string {
  return `${id}/${hostPort}/${protocol}`;
}
