import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/log';
import { PortProxy } from '../../src/proxy';

/** Each backend on its own loopback address, as replicas have their own IPs. */
const PROXY_HOST = '127.0.0.1';

async function nodeBackend(id: string, host: string) {
  const server = http.createServer({ keepAlive: true }, (_req, res) => {
    res.end(id);
  });
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    backend: { id, host, port },
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

async function waitForPort(host: string, port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const socket = net.connect(port, host);
    const ok = await new Promise<boolean>((resolve) => {
      socket
        .once('connect', () => {
          resolve(true);
        })
        .once('error', () => {
          resolve(false);
        });
    });
    socket.destroy();
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${host}:${port} never listened`);
}

/** busybox httpd serving `id`: a real process, killed with SIGKILL mid-run. */
async function busyboxBackend(id: string, host: string, dir: string) {
  await writeFile(join(dir, 'index.html'), id);
  const probe = net.createServer().listen(0, host);
  await once(probe, 'listening');
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((r) => probe.close(r));
  const child: ChildProcess = spawn(
    'busybox',
    ['httpd', '-f', '-p', `${host}:${port}`, '-h', dir],
    {
      stdio: 'ignore',
    },
  );
  await waitForPort(host, port);
  return {
    backend: { id, host, port },
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}

interface Outcome {
  /** Set once the backend is dead: failures of requests started later are never acceptable. */
  killed: boolean;
  /** Requests in flight on the dying backend when it was killed: may fail, at most one each. */
  failedAtKill: number;
  ok: number;
  failedOnNewConnection: number;
  failedOnReusedConnection: number;
  byBackend: Map<string, number>;
}

function get(agent: http.Agent, port: number, outcome: Outcome): Promise<void> {
  const startedAfterKill = outcome.killed;
  return new Promise((resolve) => {
    const req = http.get({ host: PROXY_HOST, port, path: '/', agent }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        if (res.statusCode === 200) {
          outcome.ok++;
          outcome.byBackend.set(body, (outcome.byBackend.get(body) ?? 0) + 1);
        } else outcome.failedOnNewConnection++;
        resolve();
      });
      res.on('error', () => {
        outcome.failedOnReusedConnection++;
        resolve();
      });
    });
    req.on('error', () => {
      // A request on a kept-alive connection to the killed backend may die with it; a request on
      // a new connection must never fail.
      if (req.reusedSocket) outcome.failedOnReusedConnection++;
      else if (startedAfterKill) outcome.failedOnNewConnection++;
      else outcome.failedAtKill++;
      resolve();
    });
  });
}

describe('port proxy in front of real HTTP servers', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'budgie-proxy-it-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves keep-alive clients without failed new connections while a backend dies', async () => {
    const a = await nodeBackend('a', '127.0.0.2');
    const b = await nodeBackend('b', '127.0.0.3');
    const c = await busyboxBackend('c', '127.0.0.4', dir);
    const proxy = new PortProxy({
      protocol: 'tcp',
      host: PROXY_HOST,
      port: 0,
      connectTimeoutMs: 1000,
      log: silentLogger(),
    });
    const agents = Array.from(
      { length: 8 },
      () => new http.Agent({ keepAlive: true, maxSockets: 1 }),
    );
    try {
      await proxy.start();
      proxy.setBackends([a.backend, b.backend, c.backend]);
      const outcome: Outcome = {
        killed: false,
        failedAtKill: 0,
        ok: 0,
        failedOnNewConnection: 0,
        failedOnReusedConnection: 0,
        byBackend: new Map(),
      };
      const deadline = Date.now() + 3000;
      let killedAt = 0;
      const killer = (async () => {
        await new Promise((r) => setTimeout(r, 1000));
        await c.kill();
        outcome.killed = true;
        killedAt = outcome.ok;
      })();
      await Promise.all(
        agents.map(async (agent, i) => {
          // Half the clients open a new connection per request, half keep theirs alive.
          while (Date.now() < deadline) {
            await get(agent, proxy.port, outcome);
            if (i % 2 === 0) agent.destroy();
          }
        }),
      );
      await killer;

      expect(outcome.failedOnNewConnection).toBe(0);
      expect(outcome.failedAtKill + outcome.failedOnReusedConnection).toBeLessThanOrEqual(
        agents.length,
      );
      expect(outcome.ok).toBeGreaterThan(500);
      expect(outcome.ok - killedAt).toBeGreaterThan(100);
      for (const id of ['a', 'b', 'c']) expect(outcome.byBackend.get(id)).toBeGreaterThan(0);
      const stats = proxy.stats();
      expect(stats.connections.rejected).toBe(0);
      expect(stats.backends.find((s) => s.id === 'c')?.connectFailures).toBeGreaterThan(0);
    } finally {
      for (const agent of agents) agent.destroy();
      await proxy.close();
      await c.kill();
      await Promise.all([a.close(), b.close()]);
    }
  });
});
