import dgram from 'node:dgram';
import net from 'node:net';
import { messageOf } from '../errors';
import type { Logger } from '../log';
import type { BackendPool } from './backend-pool';
import type { Frontend, Traffic } from './frontend';
import { UdpFlow } from './udp-flow';

export interface UdpFrontendOptions {
  /** A flow with no datagram either way for this long is closed. */
  idleMs: number;
  log: Logger;
  now: () => number;
}

/**
 * Forwards datagrams per client flow: the first datagram from a client address:port picks a
 * backend round-robin; later ones, and the replies, stay on that flow until it idles out.
 * `rejected` counts datagrams dropped because no backend could take a new flow.
 */
export class UdpFrontend implements Frontend {
  private socket: dgram.Socket | undefined;
  private readonly flows = new Map<string, UdpFlow>();
  private readonly counters = { total: 0, rejected: 0, fromClients: 0, toClients: 0 };
  private sweeper: NodeJS.Timeout | undefined;
  private accepting = true;
  private bound = false;

  constructor(
    private readonly pool: BackendPool,
    private readonly options: UdpFrontendOptions,
  ) {}

  listen(host: string, port: number): Promise<number> {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    this.socket = socket;
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: host, port, exclusive: true }, () => {
        socket.removeListener('error', reject);
        socket.on('error', (err) => {
          this.options.log.error('listener failed', { error: messageOf(err) });
        });
        socket.on('message', (msg, rinfo) => {
          this.forward(msg, rinfo);
        });
        this.bound = true;
        const { idleMs } = this.options;
        this.sweeper = setInterval(
          () => {
            this.sweep();
          },
          Math.max(10, Math.floor(idleMs / 4)),
        );
        this.sweeper.unref();
        resolve(socket.address().port);
      });
    });
  }

  get listening(): boolean {
    return this.bound;
  }

  /** New clients are dropped; existing flows go on (their replies need the listener). */
  stopAccepting(): void {
    this.accepting = false;
  }

  close(): void {
    this.accepting = false;
    clearInterval(this.sweeper);
    for (const flow of this.flows.values()) flow.destroy();
    if (this.bound) this.socket?.close();
    this.bound = false;
  }

  traffic(): Traffic {
    let { fromClients, toClients } = this.counters;
    for (const flow of this.flows.values()) {
      fromClients += flow.fromClients;
      toClients += flow.toClients;
    }
    const { total, rejected } = this.counters;
    const buffered = this.bound ? (this.socket?.getSendQueueSize() ?? 0) : 0;
    return { active: this.flows.size, total, rejected, fromClients, toClients, buffered };
  }

  private forward(msg: Buffer, client: dgram.RemoteInfo): void {
    const key = `${client.address} ${client.port}`;
    let flow = this.flows.get(key);
    if (flow === undefined) {
      const entry = this.accepting ? this.pool.candidates()[0] : undefined;
      if (entry === undefined) {
        this.counters.rejected++;
        return;
      }
      flow = new UdpFlow(entry, { address: client.address, port: client.port }, this.now(), {
        reply: (f, reply) => {
          f.lastSeen = this.now();
          this.socket?.send(reply, f.client.port, f.client.address);
        },
        failed: (f, err) => {
          if (this.pool.failed(f.entry)) {
            this.options.log.warn('backend unreachable; trying others first', {
              backend: f.entry.backend.id,
              error: messageOf(err),
            });
          }
          f.destroy();
        },
        closed: (f) => {
          this.closed(key, f);
        },
      });
      this.pool.acquire(entry, flow);
      this.flows.set(key, flow);
      this.counters.total++;
    }
    flow.lastSeen = this.now();
    flow.send(msg);
  }

  private closed(key: string, flow: UdpFlow): void {
    if (this.flows.get(key) === flow) this.flows.delete(key);
    this.counters.fromClients += flow.fromClients;
    this.counters.toClients += flow.toClients;
    flow.entry.release(flow);
  }

  private sweep(): void {
    const limit = this.now() - this.options.idleMs;
    for (const flow of this.flows.values()) if (flow.lastSeen <= limit) flow.destroy();
  }

  private now(): number {
    return this.options.now();
  }
}
