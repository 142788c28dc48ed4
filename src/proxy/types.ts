import type { Socket } from 'node:net';

export type ProxyProtocol = 'tcp' | 'udp';

/** One replica endpoint the proxy may forward to. `host` is an IP address (or a resolvable name). */
export interface Backend {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** False: keep its existing connections but give it no new ones. Default true. */
  readonly healthy?: boolean;
  /** A TCP connect to it not done by then is given up; default the proxy's connectTimeoutMs. */
  readonly connectTimeoutMs?: number;
}

/**
 * Opens a TCP connection to a backend, rejecting when it refuses, does not answer within
 * `timeoutMs`, or `signal` aborts. Injected so tests can model black holes without sending
 * traffic off 127.0.0.0/8.
 */
export type Connector = (
  backend: Backend,
  timeoutMs: number,
  signal: AbortSignal,
) => Promise<Socket>;

/** Anything the proxy can cut when a drain times out: a TCP session or a UDP flow. */
export interface Lease {
  destroy(): void;
}

export type BackendState = 'ready' | 'cooling' | 'unhealthy' | 'draining';

export interface BackendStats {
  id: string;
  host: string;
  port: number;
  /** `cooling`: its last connect failed, so it is tried only after the others for a while. */
  state: BackendState;
  /** Open TCP connections or live UDP flows. */
  active: number;
  total: number;
  connectFailures: number;
}

export interface ProxyStats {
  protocol: ProxyProtocol;
  host: string;
  port: number;
  listening: boolean;
  /** TCP connections or UDP flows. `rejected`: no backend could take them. */
  connections: { active: number; total: number; rejected: number };
  /** Bytes received from and sent to clients (TCP: payload; UDP: datagram payload). */
  bytes: { fromClients: number; toClients: number };
  /** Bytes the proxy holds in socket write buffers right now; stays small under backpressure. */
  buffered: number;
  backends: BackendStats[];
}
