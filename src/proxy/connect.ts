import net from 'node:net';
import type { Backend, Connector } from './types';

/** TCP keep-alive probe delay: finds peers that vanished without a FIN on long-lived sessions. */
export const KEEPALIVE_DELAY_MS = 30_000;

export class ConnectTimeoutError extends Error {
  constructor(backend: Backend, timeoutMs: number) {
    super(`connect to ${backend.host}:${backend.port} timed out after ${timeoutMs} ms`);
    this.name = 'ConnectTimeoutError';
  }
}

export class ConnectAbortedError extends Error {
  constructor(backend: Backend) {
    super(`connect to ${backend.host}:${backend.port} abandoned: the backend left rotation`);
    this.name = 'ConnectAbortedError';
  }
}

/** The real connector: half-open allowed, Nagle off, keep-alive on. */
export const tcpConnect: Connector = (backend, timeoutMs, signal) =>
  new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new ConnectAbortedError(backend));
      return;
    }
    const socket = net.connect({
      host: backend.host,
      port: backend.port,
      allowHalfOpen: true,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: KEEPALIVE_DELAY_MS,
    });
    const onAbort = (): void => {
      onError(new ConnectAbortedError(backend));
    };
    const onError = (err: Error): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => {
      onError(new ConnectTimeoutError(backend, timeoutMs));
    }, timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.removeListener('error', onError);
      resolve(socket);
    });
  });
