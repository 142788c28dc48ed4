import type { Socket } from 'node:net';
import type { BackendEntry } from './backend-pool';
import type { Lease } from './types';

/**
 * One client connection: paused until a backend connects, then piped both ways with
 * backpressure. End-of-stream passes through (half-close); an error on either side destroys both.
 * A clean close of one side needs nothing more: it means both directions ended, so the other side
 * closes by itself once its write buffer is flushed.
 */
export class TcpSession implements Lease {
  entry: BackendEntry | undefined;
  private upstream: Socket | undefined;
  private clientClosed = false;
  private upstreamClosed = true;

  constructor(
    readonly client: Socket,
    private readonly onDone: (session: TcpSession) => void,
  ) {
    client.on('error', () => {
      this.destroy();
    });
    client.once('close', () => {
      this.clientClosed = true;
      this.settle();
    });
  }

  /** True once the client went away: a late backend connection must be dropped. */
  get closed(): boolean {
    return this.clientClosed || this.client.destroyed;
  }

  attach(entry: BackendEntry, upstream: Socket): void {
    this.entry = entry;
    this.upstream = upstream;
    this.upstreamClosed = false;
    upstream.on('error', () => {
      this.destroy();
    });
    upstream.once('close', () => {
      this.upstreamClosed = true;
      this.settle();
    });
    upstream.pipe(this.client);
    this.client.pipe(upstream);
  }

  destroy(): void {
    this.client.destroy();
    this.upstream?.destroy();
  }

  /** Bytes waiting in this session's socket write buffers. */
  buffered(): number {
    return this.client.writableLength + (this.upstream?.writableLength ?? 0);
  }

  private settle(): void {
    if (this.clientClosed && this.upstreamClosed) this.onDone(this);
  }
}
