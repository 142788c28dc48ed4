import net from 'node:net';
import type { Logger } from '../log';
import { messageOf } from '../errors';
import type { BackendPool } from './backend-pool';
import { KEEPALIVE_DELAY_MS } from './connect';
import { TcpSession } from './tcp-session';
import type { Connector } from './types';
import type { Frontend, Traffic } from './frontend';

export interface TcpFrontendOptions {
  connect: Connector;
  connectTimeoutMs: number;
  log: Logger;
}

/**
 * Accepts client connections paused (early bytes stay in the kernel) and hands each to the first
 * backend that connects, in the pool's round-robin order. No backend: the client is closed at once.
 */
export class TcpFrontend implements Frontend {
  private readonly server: net.Server;
  private readonly sessions = new Set<TcpSession>();
  private readonly counters = { total: 0, rejected: 0, fromClients: 0, toClients: 0 };

  constructor(
    private readonly pool: BackendPool,
    private readonly options: TcpFrontendOptions,
  ) {
    this.server = net.createServer({
      allowHalfOpen: true,
      pauseOnConnect: true,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: KEEPALIVE_DELAY_MS,
    });
    this.server.on('connection', (client) => {
      void this.dispatch(
        new TcpSession(client, (s) => {
          this.done(s);
        }),
      );
    });
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.removeListener('error', reject);
        this.server.on('error', (err) => {
          this.options.log.error('listener failed', { error: messageOf(err) });
        });
        const address = this.server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  }

  get listening(): boolean {
    return this.server.listening;
  }

  /** Frees the port; open sessions carry on until they end or are drained. */
  stopAccepting(): void {
    if (this.server.listening) this.server.close();
  }

  close(): void {
    this.stopAccepting();
    for (const session of this.sessions) session.destroy();
  }

  traffic(): Traffic {
    let { fromClients, toClients } = this.counters;
    let buffered = 0;
    for (const s of this.sessions) {
      fromClients += s.client.bytesRead;
      toClients += s.client.bytesWritten;
      buffered += s.buffered();
    }
    const { total, rejected } = this.counters;
    return { active: this.sessions.size, total, rejected, fromClients, toClients, buffered };
  }

  private async dispatch(session: TcpSession): Promise<void> {
    this.sessions.add(session);
    this.counters.total++;
    const { connect, connectTimeoutMs, log } = this.options;
    for (const entry of this.pool.candidates()) {
      const timeoutMs = entry.backend.connectTimeoutMs ?? connectTimeoutMs;
      try {
        const upstream = await connect(entry.backend, timeoutMs, entry.leftRotation);
        if (session.closed) {
          upstream.destroy();
          return;
        }
        this.pool.acquire(entry, session);
        session.attach(entry, upstream);
        return;
      } catch (err) {
        // A backend taken out of rotation (while the client waited, e.g. its member turned
        // suspect) did not fail: the client just moves on.
        if (!entry.leftRotation.aborted && this.pool.failed(entry)) {
          log.warn('backend connect failed; trying others first', {
            backend: entry.backend.id,
            error: messageOf(err),
          });
        }
      }
      if (session.closed) return;
    }
    this.counters.rejected++;
    log.debug('no backend for connection', { client: session.client.remoteAddress });
    session.client.destroy();
  }

  private done(session: TcpSession): void {
    if (!this.sessions.delete(session)) return;
    this.counters.fromClients += session.client.bytesRead;
    this.counters.toClients += session.client.bytesWritten;
    session.entry?.release(session);
  }
}
