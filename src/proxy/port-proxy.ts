import type { Logger } from '../log';
import { BackendPool } from './backend-pool';
import { tcpConnect } from './connect';
import type { Frontend } from './frontend';
import { listenError } from './listen-error';
import { TcpFrontend } from './tcp-frontend';
import type { Backend, Connector, ProxyProtocol, ProxyStats } from './types';
import { UdpFrontend } from './udp-frontend';

export interface PortProxyOptions {
  protocol: ProxyProtocol;
  /** The host port to listen on; 0 picks a free one (see `port` after `start`). */
  port: number;
  /** Bind address; default all IPv4 interfaces ('0.0.0.0'). '::' listens on both families. */
  host?: string;
  /** A backend that has not accepted a TCP connection by then is skipped. Default 2 s. */
  connectTimeoutMs?: number;
  /** A UDP flow with no datagram either way for this long is closed. Default 30 s. */
  udpIdleMs?: number;
  /** How long backends removed by `setBackends` may finish their connections. Default 10 s. */
  drainTimeoutMs?: number;
  /** How long a backend whose connect failed is tried only after the others. Default 2 s. */
  failCooldownMs?: number;
  log: Logger;
  connect?: Connector;
  now?: () => number;
}

/**
 * One published port: listens on the host and forwards each TCP connection (or UDP flow) to a
 * backend, round-robin, skipping backends that refuse or time out. Backends are replaced live.
 */
export class PortProxy {
  readonly protocol: ProxyProtocol;
  readonly host: string;
  private boundPort: number;
  private readonly pool: BackendPool;
  private readonly frontend: Frontend;
  private readonly drainTimeoutMs: number;
  private readonly log: Logger;

  constructor(options: PortProxyOptions) {
    this.protocol = options.protocol;
    this.host = options.host ?? '0.0.0.0';
    this.boundPort = options.port;
    this.drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
    const now = options.now ?? Date.now;
    this.log = options.log.child({ port: `${options.port}/${options.protocol}` });
    this.pool = new BackendPool({ failCooldownMs: options.failCooldownMs ?? 2000, now });
    this.frontend =
      options.protocol === 'tcp'
        ? new TcpFrontend(this.pool, {
            connect: options.connect ?? tcpConnect,
            connectTimeoutMs: options.connectTimeoutMs ?? 2000,
            log: this.log,
          })
        : new UdpFrontend(this.pool, { idleMs: options.udpIdleMs ?? 30_000, log: this.log, now });
  }

  /** The port listened on: the requested one, or the one picked for port 0 once started. */
  get port(): number {
    return this.boundPort;
  }

  /** Binds. Port taken: ConflictError; not allowed: PermissionDeniedError. */
  async start(): Promise<void> {
    try {
      this.boundPort = await this.frontend.listen(this.host, this.boundPort);
    } catch (err) {
      throw listenError(err, this.protocol, this.host, this.boundPort);
    }
    this.log.info('listening', { host: this.host });
  }

  /**
   * Replaces the backend set. New connections go only to listed, healthy backends; those no
   * longer listed drain for `drainTimeoutMs` in the background.
   */
  setBackends(backends: readonly Backend[]): void {
    this.pool.set(backends, this.drainTimeoutMs);
  }

  /** Resolves once the backends draining now (removed or drained) are gone. */
  drained(): Promise<void> {
    return this.pool.drained();
  }

  /** Stops new connections to `id`; resolves when its connections end, cut after `timeoutMs`. */
  drain(id: string, timeoutMs: number): Promise<void> {
    return this.pool.drain(id, timeoutMs);
  }

  stats(): ProxyStats {
    const t = this.frontend.traffic();
    return {
      protocol: this.protocol,
      host: this.host,
      port: this.boundPort,
      listening: this.frontend.listening,
      connections: { active: t.active, total: t.total, rejected: t.rejected },
      bytes: { fromClients: t.fromClients, toClients: t.toClients },
      buffered: t.buffered,
      backends: this.pool.stats(),
    };
  }

  /** Stops listening; open connections get `drainTimeoutMs` (default 0: cut now) to finish. */
  async close(drainTimeoutMs = 0): Promise<void> {
    this.frontend.stopAccepting();
    await this.pool.drainAll(drainTimeoutMs);
    this.frontend.close();
    this.log.info('closed');
  }
}
