import { get } from 'node:http';

export interface Reply {
  status: number;
  body: string;
}

/** One HTTP GET to 127.0.0.1 on a fresh connection; a failed request resolves with status 0. */
export function fetchOnce(port: number, path: string): Promise<Reply> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', (err) => {
        resolve({ status: 0, body: String(err) });
      });
    });
    req.on('timeout', () => {
      req.destroy(new Error('timed out'));
    });
    req.on('error', (err) => {
      resolve({ status: 0, body: String(err) });
    });
  });
}

export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 50 ms until it returns a value (not undefined) or `ms` pass. */
export async function until<T>(
  what: string,
  ms: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await pause(50);
  }
}
