/**
 * Throughput of the Budgie port proxy against HAProxy (TCP mode, one thread) in front of the same
 * nginx, measured with wrk in one run: direct, haproxy, budgie; keep-alive and one connection
 * per request. Needs nginx, haproxy and wrk on PATH. See bench/README.md for the command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../src/log';
import { PortProxy } from '../src/proxy';

const HOST = '127.0.0.1';
const DURATION = process.env.BENCH_DURATION ?? '10s';
const THREADS = process.env.BENCH_THREADS ?? '2';
const CONNECTIONS = process.env.BENCH_CONNECTIONS ?? '64';

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, HOST);
  await new Promise((r) => server.once('listening', r));
  const address = server.address();
  await new Promise((r) => server.close(r));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, HOST, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => {
        resolve(false);
      });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${HOST}:${port}`);
}

function start(cmd: string, args: string[]): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  child.on('error', (err) => {
    console.error(`${cmd}: ${err.message}`);
    process.exitCode = 1;
  });
  return child;
}

function nginxConfig(dir: string, port: number): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `${t}_temp_path ${dir}/${t};`)
    .join(' ');
  return `daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/nginx.err;
events { worker_connections 4096; }
http { access_log off; ${temp}
  keepalive_requests 1000000;
  server { listen ${HOST}:${port}; location / { return 200 "ok\\n"; } } }
`;
}

function haproxyConfig(port: number, backend: number): string {
  return `global
  nbthread 1
  maxconn 4096
defaults
  mode tcp
  timeout connect 2s
  timeout client 30s
  timeout server 30s
frontend budgie_bench
  bind ${HOST}:${port}
  default_backend nginx
backend nginx
  balance roundrobin
  server n1 ${HOST}:${backend}
`;
}

interface WrkResult {
  rps: number;
  errors: string;
}

async function wrk(port: number, close: boolean): Promise<WrkResult> {
  const args = ['-t', THREADS, '-c', CONNECTIONS, '-d', DURATION];
  if (close) args.push('-H', 'Connection: close');
  args.push(`http://${HOST}:${port}/`);
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise((r) => child.on('close', r));
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 'NaN');
  const errors = [/Socket errors:[^\n]*/, /Non-2xx[^\n]*/]
    .map((re) => re.exec(out)?.[0])
    .filter((e) => e !== undefined)
    .join('; ');
  return { rps, errors };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'budgie-bench-proxy-'));
  const children: ChildProcess[] = [];
  const [nginxPort, haproxyPort, budgiePort] = [await freePort(), await freePort(), 0];
  const proxy = new PortProxy({
    protocol: 'tcp',
    host: HOST,
    port: budgiePort,
    log: silentLogger(),
  });
  try {
    writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, nginxPort));
    writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig(haproxyPort, nginxPort));
    children.push(start('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')]));
    children.push(start('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')]));
    await proxy.start();
    proxy.setBackends([{ id: 'nginx', host: HOST, port: nginxPort }]);
    await Promise.all([waitForPort(nginxPort), waitForPort(haproxyPort)]);

    console.log(`wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION}, nginx return 200, one backend`);
    const targets = { direct: nginxPort, haproxy: haproxyPort, budgie: proxy.port };
    for (const close of [false, true]) {
      const mode = close ? 'new connection per request' : 'keep-alive';
      const results: Record<string, number> = {};
      for (const [name, port] of Object.entries(targets)) {
        const r = await wrk(port, close);
        results[name] = r.rps;
        const note = r.errors === '' ? '' : `  (${r.errors})`;
        console.log(
          `${mode.padEnd(27)} ${name.padEnd(8)} ${r.rps.toFixed(0).padStart(8)} req/s${note}`,
        );
      }
      const ratio = (results.budgie ?? NaN) / (results.haproxy ?? NaN);
      console.log(`${mode.padEnd(27)} budgie/haproxy = ${ratio.toFixed(2)}`);
    }
  } finally {
    await proxy.close();
    for (const c of children) c.kill('SIGTERM');
    const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
    await Promise.all(running.map((c) => new Promise((r) => c.once('exit', r))));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
