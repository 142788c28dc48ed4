import http from 'node:http';
import type { HealthRequest, HealthTarget } from './types';

/** Bytes of a response body read before the rest is cut off: a healthcheck needs the status only. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * A one-shot GET without keep-alive (a fresh connection each time, so a dead replica cannot look
 * alive through a pooled socket). Resolves with the status once the body ends or reaches the cap.
 */
export const httpRequest: HealthRequest = (target, signal) =>
  new Promise<number>((resolve, reject) => {
    const req = http.request({
      host: target.host,
      port: target.port,
      path: target.path,
      method: 'GET',
      agent: false,
      headers: { Connection: 'close', 'User-Agent': 'budgie-healthcheck' },
      signal,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= MAX_BODY_BYTES) {
          resolve(status);
          req.destroy();
        }
      });
      res.on('end', () => {
        resolve(status);
      });
      res.on('error', reject);
      res.on('close', () => {
        if (!res.complete && read < MAX_BODY_BYTES) reject(new Error('connection closed mid-body'));
      });
    });
    req.end();
  });

/** `http://10.213.0.5:8080/health`, with brackets around an IPv6 host. */
export function urlOf(target: HealthTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `http://${host}:${target.port}${target.path}`;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EHOSTDOWN: 'host down',
  ENOTFOUND: 'host not found',
  EPIPE: 'connection closed',
  HPE_INVALID_CONSTANT: 'not an HTTP response',
};

/**
 * One short line for a failed request, without Node's address suffixes. Node's own errors may come
 * from another realm (jest), so this reads their fields rather than testing `instanceof Error`.
 */
export function reasonOf(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const code = 'code' in err && typeof err.code === 'string' ? err.code : '';
  const reason = REASONS[code];
  if (reason !== undefined) return reason;
  if (code.startsWith('HPE_')) return 'malformed HTTP response';
  const message = 'message' in err && typeof err.message === 'string' ? err.message : 'failed';
  return message.split('\n')[0] ?? '';
}
