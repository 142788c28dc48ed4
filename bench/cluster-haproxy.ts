/**
 * HAProxy as the failover benchmark's peer: TCP mode in front of the same backends as Budgie's
 * proxy on node A, with active health checks whose timing matches Budgie's heartbeat, and the
 * connect-failure handling that HAProxy offers for the same job (retries, redispatch).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';

export interface HaproxyOptions {
  /** Network namespace HAProxy runs in (node A's), and the address and port it binds there. */
  netnsPath: string;
  bind: string;
  port: number;
  /** name -> HOST:PORT */
  servers: Record<string, string>;
  /** `check inter`: as Budgie's heartbeat. */
  interMs: number;
  /** `fall`: failed checks before down, as Budgie's suspect-after / heartbeat. */
  fall: number;
  /** `timeout connect`: as Budgie's connect timeout for remote backends. */
  connectTimeoutMs: number;
  dir: string;
}

export interface Haproxy {
  /** The `status` column of `show stat` for a server: UP, DOWN, "UP 1/3" while going down... */
  status(server: string): Promise<string>;
  stop(): Promise<void>;
  config: string;
}

function config(o: HaproxyOptions, socket: string): string {
  const servers = Object.entries(o.servers)
    .map(([name, address]) => `  server ${name} ${address}`)
    .join('\n');
  // rise 1: Budgie takes a member back at its first answer. retries + redispatch 1: a connect
  // that fails is retried on another server while the client waits, as Budgie's failover does.
  return `global
  nbthread 1
  maxconn 4096
  stats socket ${socket} mode 600 level admin
defaults
  mode tcp
  timeout connect ${o.connectTimeoutMs}ms
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch 1
frontend failover
  bind ${o.bind}:${o.port}
  default_backend web
backend web
  balance roundrobin
  default-server check inter ${o.interMs}ms fall ${o.fall} rise 1
${servers}
`;
}

export async function startHaproxy(o: HaproxyOptions): Promise<Haproxy> {
  const socket = join(o.dir, 'haproxy.sock');
  const file = join(o.dir, 'haproxy.cfg');
  const text = config(o, socket);
  await writeFile(file, text);
  const child: ChildProcess = spawn(
    'nsenter',
    [`--net=${o.netnsPath}`, 'haproxy', '-db', '-f', file],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const ask = (command: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const s = net.connect(socket, () => {
        s.end(`${command}\n`);
      });
      let out = '';
      s.setEncoding('utf8');
      s.on('data', (c: string) => (out += c));
      s.on('end', () => {
        resolve(out);
      });
      s.on('error', reject);
    });
  const status = async (server: string): Promise<string> => {
    const lines = (await ask('show stat')).split('\n');
    const head = (lines[0] ?? '').replace(/^# /, '').split(',');
    const col = head.indexOf('status');
    const row = lines.map((l) => l.split(',')).find((f) => f[0] === 'web' && f[1] === server);
    return row?.[col] ?? 'unknown';
  };
  for (let i = 0; ; i++) {
    try {
      await status('a');
      break;
    } catch (err) {
      if (child.exitCode !== null || i > 100)
        throw new Error(`haproxy did not start: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    status,
    config: text,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    },
  };
}
