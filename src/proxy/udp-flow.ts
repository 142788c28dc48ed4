import dgram from 'node:dgram';
import net from 'node:net';
import type { BackendEntry } from './backend-pool';
import type { Lease } from './types';

/** Datagrams kept while the flow's socket connects; more are dropped, as UDP may. */
const MAX_PENDING = 64;

export interface FlowEvents {
  reply(flow: UdpFlow, msg: Buffer): void;
  /** The backend refused (ICMP port unreachable) or could not be reached. */
  failed(flow: UdpFlow, err: Error): void;
  closed(flow: UdpFlow): void;
}

/**
 * One client address:port bound to one backend through a dedicated connected socket, so replies
 * come back on it and go out to that client only.
 */
export class UdpFlow implements Lease {
  lastSeen: number;
  fromClients = 0;
  toClients = 0;
  private pending: Buffer[] | undefined = [];
  private readonly socket: dgram.Socket;
  private closing = false;

  constructor(
    readonly entry: BackendEntry,
    readonly client: { address: string; port: number },
    now: number,
    private readonly events: FlowEvents,
  ) {
    this.lastSeen = now;
    const { host, port } = entry.backend;
    this.socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    this.socket.on('message', (msg) => {
      this.toClients += msg.length;
      events.reply(this, msg);
    });
    this.socket.on('error', (err) => {
      events.failed(this, err);
    });
    // Without a callback, a failed connect (a name that does not resolve) comes as 'error'.
    this.socket.once('connect', () => {
      const pending = this.pending ?? [];
      this.pending = undefined;
      if (!this.closing) for (const msg of pending) this.socket.send(msg);
    });
    this.socket.connect(port, host);
  }

  send(msg: Buffer): void {
    this.fromClients += msg.length;
    if (this.closing) return;
    if (this.pending === undefined) this.socket.send(msg);
    else if (this.pending.length < MAX_PENDING) this.pending.push(msg);
  }

  destroy(): void {
    if (this.closing) return;
    this.closing = true;
    this.socket.close();
    this.events.closed(this);
  }
}
