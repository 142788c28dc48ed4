import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HealthMonitor, httpRequest, type HealthState } from '../../../src/health';
import { silentLogger } from '../../../src/log';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A real server on 127.0.0.1 whose behaviour a test swaps; counts connections. */
async function serve(handler: Handler) {
  const state = { handler, connections: 0, headers: [] as http.IncomingHttpHeaders[] };
  const server = http.createServer((req, res) => {
    state.headers.push(req.headers);
    state.handler(req, res);
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  };
  return { state, port, close };
}

function monitor(port: number, timeoutMs = 1_000, retries = 1) {
  const changes: [HealthState, string][] = [];
  let wake: (() => void) | undefined;
  const m = new HealthMonitor({
    host: '127.0.0.1',
    port,
    path: '/health',
    intervalMs: 50,
    timeoutMs,
    retries,
    onChange: (state, detail) => {
      changes.push([state, detail]);
      wake?.();
    },
    log: silentLogger(),
  });
  /** Resolves at the next transition. */
  const next = () =>
    new Promise<[HealthState, string]>((resolve) => {
      wake = () => {
        resolve(changes[changes.length - 1]!);
      };
    });
  return { m, changes, next };
}

describe('HealthMonitor over real HTTP', () => {
  it('turns healthy on 200, unhealthy on 500, and healthy again', async () => {
    const srv = await serve((_req, res) => res.end('ok'));
    const { m, next } = monitor(srv.port);
    try {
      const first = next();
      m.start();
      expect(await first).toEqual(['healthy', '']);
      const second = next();
      srv.state.handler = (_req, res) => {
        res.statusCode = 500;
        res.end('boom');
      };
      expect(await second).toEqual([
        'unhealthy',
        `GET http://127.0.0.1:${srv.port}/health: HTTP 500`,
      ]);
      const third = next();
      srv.state.handler = (_req, res) => res.end();
      expect(await third).toEqual(['healthy', '']);
    } finally {
      m.stop();
      await srv.close();
    }
  });

  it('opens a fresh connection for every check and asks the server to close it', async () => {
    const srv = await serve((_req, res) => res.end('ok'));
    try {
      const controller = new AbortController();
      const target = { host: '127.0.0.1', port: srv.port, path: '/health' };
      for (let i = 0; i < 3; i++) expect(await httpRequest(target, controller.signal)).toBe(200);
      expect(srv.state.connections).toBe(3);
      expect(srv.state.headers.map((h) => h.connection)).toEqual(['close', 'close', 'close']);
    } finally {
      await srv.close();
    }
  });

  it('reports a refused connection', async () => {
    const srv = await serve(() => undefined);
    await srv.close(); // nothing listens on this port any more
    const { m, next } = monitor(srv.port);
    const change = next();
    m.start();
    try {
      expect(await change).toEqual([
        'unhealthy',
        `GET http://127.0.0.1:${srv.port}/health: connection refused`,
      ]);
    } finally {
      m.stop();
    }
  });

  it('times out a server that never answers', async () => {
    const srv = await serve(() => undefined);
    const { m, next } = monitor(srv.port, 200);
    const change = next();
    m.start();
    try {
      expect(await change).toEqual([
        'unhealthy',
        `GET http://127.0.0.1:${srv.port}/health: timed out after 200ms`,
      ]);
    } finally {
      m.stop();
      await srv.close();
    }
  });

  it('times out a response whose body never ends', async () => {
    const srv = await serve((_req, res) => {
      res.write('partial');
    });
    const { m, next } = monitor(srv.port, 200);
    const change = next();
    m.start();
    try {
      expect((await change)[1]).toMatch(/: timed out after 200ms$/);
    } finally {
      m.stop();
      await srv.close();
    }
  });

  it('stops reading an endless body at the cap and counts the status', async () => {
    const chunk = Buffer.alloc(16 * 1024, 'x');
    const srv = await serve((_req, res) => {
      const pump = (): void => {
        while (res.write(chunk));
        res.once('drain', pump);
      };
      res.on('error', () => undefined);
      pump();
    });
    try {
      const target = { host: '127.0.0.1', port: srv.port, path: '/' };
      expect(await httpRequest(target, new AbortController().signal)).toBe(200);
    } finally {
      await srv.close();
    }
  });
});
