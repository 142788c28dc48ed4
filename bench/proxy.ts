/**
 * The Budgie port proxy against HAProxy (TCP mode, roundrobin, one thread) in front of the same
 * nginx backends, measured with wrk in one run: direct, haproxy, budgie. For each: requests/s
 * with keep-alive, new connections/s (`Connection: close`), p99 latency of both (wrk --latency),
 * and bulk MB/s fetching a large static file. The backends are BACKENDS ports of one nginx with
 * BACKENDS workers, so "direct" (one port) is served by the same workers the proxies spread over
 * and the one-threaded proxies are the bottleneck. Needs nginx, haproxy and wrk on PATH. See
 * bench/README.md for the command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../src/log';
import { PortProxy } from '../src/proxy';

const HOST = '127.0.0.1';
const DURATION = process.env.BENCH_DURATION ?? '10s';
const THREADS = process.env.BENCH_THREADS ?? '2';
const CONNECTIONS = process.env.BENCH_CONNECTIONS ?? '64';
const BACKENDS = Number(process.env.BENCH_BACKENDS ?? '3');
const BULK_MB = Number(process.env.BENCH_BULK_MB ?? '10');
const BULK_CONNECTIONS = process.env.BENCH_BULK_CONNECTIONS ?? '8';
const BULK_PATH = '/bulk.bin';

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

/** One nginx, a worker per backend port; `/` answers "ok", BULK_PATH is a static file in `dir`. */
function nginxConfig(dir: string, ports: readonly number[]): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `${t}_temp_path ${dir}/${t};`)
    .join(' ');
  const listen = ports.map((p) => `listen ${HOST}:${p};`).join(' ');
  return `daemon off; worker_processes ${ports.length}; pid ${dir}/nginx.pid; error_log ${dir}/nginx.err;
events { worker_connections 4096; }
http { access_log off; ${temp}
  keepalive_requests 1000000; sendfile on; tcp_nopush on;
  server { ${listen}
    location / { return 200 "ok\\n"; }
    location = ${BULK_PATH} { root ${dir}; } } }
`;
}

function haproxyConfig(port: number, backends: readonly number[]): string {
  const servers = backends.map((b, i) => `  server n${i + 1} ${HOST}:${b}`).join('\n');
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
${servers}
`;
}

interface WrkResult {
  rps: number;
  /** Bytes read per second. */
  bytesPerSec: number;
  p99Ms: number;
  errors: string;
}

const UNITS: Record<string, number> = { us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZES: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

async function wrk(
  port: number,
  path: string,
  connections: string,
  close: boolean,
): Promise<WrkResult> {
  const args = ['-t', THREADS, '-c', connections, '-d', DURATION, '--latency'];
  if (close) args.push('-H', 'Connection: close');
  args.push(`http://${HOST}:${port}${path}`);
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise((r) => child.on('close', r));
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 'NaN');
  const transfer = /Transfer\/sec:\s+([\d.]+)([KMG]?B)/.exec(out);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m|h)\s*$/m.exec(out);
  const errors = [/Socket errors:[^\n]*/, /Non-2xx[^\n]*/]
    .map((re) => re.exec(out)?.[0])
    .filter((e) => e !== undefined)
    .join('; ');
  return {
    rps,
    bytesPerSec: Number(transfer?.[1] ?? 'NaN') * (SIZES[transfer?.[2] ?? ''] ?? NaN),
    p99Ms: Number(p99?.[1] ?? 'NaN') * (UNITS[p99?.[2] ?? ''] ?? NaN),
    errors,
  };
}

type Target = 'direct' | 'haproxy' | 'budgie';
const TARGETS: readonly Target[] = ['direct', 'haproxy', 'budgie'];

type Run = 'keepalive' | 'close' | 'bulk';
type Results = Record<Run, Record<Target, WrkResult>>;

/** A table row: `metric` picks its figure from the wrk run of each target. */
interface Row {
  label: string;
  run: Run;
  metric: (r: WrkResult) => number;
  digits: number;
}

const ROWS: readonly Row[] = [
  {
    label: `keep-alive req/s (-c${CONNECTIONS})`,
    run: 'keepalive',
    metric: (r) => r.rps,
    digits: 0,
  },
  { label: 'keep-alive p99 ms', run: 'keepalive', metric: (r) => r.p99Ms, digits: 2 },
  { label: `new connections/s (-c${CONNECTIONS})`, run: 'close', metric: (r) => r.rps, digits: 0 },
  { label: 'new connection p99 ms', run: 'close', metric: (r) => r.p99Ms, digits: 2 },
  {
    label: `bulk MB/s (${BULK_MB} MB file, -c${BULK_CONNECTIONS})`,
    run: 'bulk',
    metric: (r) => r.bytesPerSec / 1024 ** 2,
    digits: 0,
  },
  { label: 'bulk p99 ms', run: 'bulk', metric: (r) => r.p99Ms, digits: 1 },
];

function cell(text: string, width: number): string {
  return text.padStart(width);
}

function printTable(results: Results): void {
  const first = Math.max(...ROWS.map((r) => r.label.length));
  const head = [
    'test'.padEnd(first),
    ...TARGETS.map((t) => cell(t, 9)),
    cell('budgie/haproxy', 15),
    cell('budgie/direct', 14),
  ];
  console.log(head.join(' '));
  for (const row of ROWS) {
    const value = (t: Target): number => row.metric(results[row.run][t]);
    console.log(
      [
        row.label.padEnd(first),
        ...TARGETS.map((t) => cell(value(t).toFixed(row.digits), 9)),
        cell((value('budgie') / value('haproxy')).toFixed(2), 15),
        cell((value('budgie') / value('direct')).toFixed(2), 14),
      ].join(' '),
    );
  }
  for (const run of ['keepalive', 'close', 'bulk'] as const) {
    for (const t of TARGETS) {
      const errors = results[run][t].errors;
      if (errors !== '') console.log(`${run} ${t}: ${errors}`);
    }
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'budgie-bench-proxy-'));
  const children: ChildProcess[] = [];
  const nginxPorts: number[] = [];
  for (let i = 0; i < BACKENDS; i++) nginxPorts.push(await freePort());
  const haproxyPort = await freePort();
  const proxy = new PortProxy({ protocol: 'tcp', host: HOST, port: 0, log: silentLogger() });
  try {
    // nginx's workers drop root: they must be able to read the file.
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, BULK_PATH), randomBytes(BULK_MB * 1024 ** 2), { mode: 0o644 });
    writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, nginxPorts));
    writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig(haproxyPort, nginxPorts));
    children.push(start('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')]));
    children.push(start('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')]));
    await proxy.start();
    proxy.setBackends(nginxPorts.map((port, i) => ({ id: `nginx${i + 1}`, host: HOST, port })));
    await Promise.all([...nginxPorts, haproxyPort].map(waitForPort));

    console.log(
      `wrk -t${THREADS} -d${DURATION} --latency; nginx: ${BACKENDS} workers on ${BACKENDS} ports,` +
        ' the proxies round-robin over them, direct uses the first;' +
        ' haproxy tcp mode nbthread 1; p99: lower is better',
    );
    const ports: Record<Target, number> = {
      direct: nginxPorts[0] ?? NaN,
      haproxy: haproxyPort,
      budgie: proxy.port,
    };
    const each = async (path: string, connections: string, close: boolean) => ({
      direct: await wrk(ports.direct, path, connections, close),
      haproxy: await wrk(ports.haproxy, path, connections, close),
      budgie: await wrk(ports.budgie, path, connections, close),
    });
    const results: Results = {
      keepalive: await each('/', CONNECTIONS, false),
      close: await each('/', CONNECTIONS, true),
      bulk: await each(BULK_PATH, BULK_CONNECTIONS, false),
    };
    printTable(results);
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
