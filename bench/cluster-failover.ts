/**
 * Failover under load when a node is cut off the LAN: Budgie's cross-node balancing against
 * HAProxy with health checks, in one run on the cluster lab. An app runs one replica on node A
 * and one on node B (joined with `budgie chirp ID`); a client in a third namespace keeps
 * BENCH_CONCURRENCY requests in flight, each on a new connection, to A's published port (Budgie)
 * or to HAProxy in A's namespace over the same two backends (A's replica, B's direct endpoint).
 * B's link goes down for BENCH_CUT_MS, then up again. Per target: requests lost in flight at the
 * cut, new connections that failed or took longer than BENCH_SLOW_MS, the time from the cut to
 * the end of the last such one (recovery), when the proxy marked B down, and after the
 * reconnect when B was up and answering again. HAProxy's check timing matches the agents'
 * heartbeat (inter = heartbeat, fall = suspect-after / heartbeat, rise 1) and its connect
 * timeout Budgie's for remote backends, with retries and redispatch. Rounds alternate the
 * targets; medians are printed with the ratio budgie/haproxy. Needs root, containerd, runc, the
 * CNI plugins, haproxy and a built CLI (`npm run build`). See bench/README.md for the command.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setLinkUp } from '../test/support/bridge-lab';
import { startClusterLab, type ClusterLab } from '../test/support/cluster-lab';
import { testImages } from '../test/support/images';
import { failedInFlight, outcome, startLoad, type LoadRun } from '../test/support/load-client';
import { listeningPorts, MAIN, median, must, pause } from './cluster-common';
import { startHaproxy, type Haproxy } from './cluster-haproxy';

const HEARTBEAT_MS = Number(process.env.BENCH_HEARTBEAT_MS ?? '1000');
const SUSPECT_MS = Number(process.env.BENCH_SUSPECT_MS ?? '3000');
const DEAD_MS = Number(process.env.BENCH_DEAD_MS ?? '10000');
/** Budgie's connect timeout for remote backends (src/balancing), given to HAProxy too. */
const CONNECT_TIMEOUT_MS = 500;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '2');
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? '8');
const CLIENT_TIMEOUT_MS = Number(process.env.BENCH_CLIENT_TIMEOUT_MS ?? '2000');
const SLOW_MS = Number(process.env.BENCH_SLOW_MS ?? '1000');
const CUT_MS = Number(process.env.BENCH_CUT_MS ?? '15000');
const APP_PORT = 8080;
const HAPROXY_PORT = 18080;

type Target = 'budgie' | 'haproxy';

interface Figures {
  lostInFlight: number;
  failed: number;
  slow: number;
  maxMs: number;
  recoveryMs: number;
  downMs: number;
  upMs: number;
  servingMs: number;
  total: number;
}

interface Context {
  lab: ClusterLab;
  haproxy: Haproxy;
  onA: string;
  onB: string;
}

/** Polls `check` every 50 ms until it is true; returns when, or NaN after `ms`. */
async function when(check: () => Promise<boolean>, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return Date.now();
    await pause(50);
  }
  return NaN;
}

async function bState(ctx: Context): Promise<string> {
  const out = await must(ctx.lab, 0, 'cluster', 'nodes', '--format', 'json');
  const rows = JSON.parse(out) as { name: string; state: string }[];
  return rows.find((r) => r.name === ctx.lab.nodeName(1))?.state ?? 'unknown';
}

/** Whether the target's proxy has B out of rotation (`down` true) or in it. */
async function bIs(ctx: Context, target: Target, down: boolean): Promise<boolean> {
  if (target === 'budgie') return ((await bState(ctx)) !== 'alive') === down;
  const status = await ctx.haproxy.status('b');
  return down ? status.startsWith('DOWN') : status === 'UP';
}

async function answering(
  run: LoadRun,
  replica: string,
  since: number,
  ms: number,
): Promise<number> {
  return when(
    () => Promise.resolve(run.samples().some((s) => s.at >= since && s.body === replica)),
    ms,
  );
}

async function round(ctx: Context, target: Target): Promise<Figures> {
  const { lab } = ctx;
  const run = startLoad({
    netnsPath: lab.host(2).netnsPath,
    host: lab.host(0).address,
    port: target === 'budgie' ? APP_PORT : HAPROXY_PORT,
    path: '/cgi-bin/hostname',
    concurrency: CONCURRENCY,
    timeoutMs: CLIENT_TIMEOUT_MS,
  });
  let stopped = false;
  try {
    const start = Date.now();
    for (const replica of [ctx.onA, ctx.onB]) {
      if (Number.isNaN(await answering(run, replica, start, 30_000))) {
        throw new Error(`${replica} does not answer through ${target}`);
      }
    }
    await pause(2000);
    await setLinkUp(lab.host(1), false);
    const cut = Date.now();
    const down = await when(() => bIs(ctx, target, true), CUT_MS);
    await pause(Math.max(0, cut + CUT_MS - Date.now()));
    await setLinkUp(lab.host(1), true);
    const back = Date.now();
    const [up, serving] = await Promise.all([
      when(() => bIs(ctx, target, false), 30_000),
      answering(run, ctx.onB, back, 30_000),
    ]);
    await pause(2000);
    stopped = true;
    const samples = await run.stop();
    const seen = outcome(samples, cut, Date.now(), SLOW_MS);
    return {
      lostInFlight: failedInFlight(samples, cut),
      failed: seen.failed,
      slow: seen.slow,
      maxMs: seen.maxMs,
      recoveryMs: seen.recoveryMs,
      downMs: down - cut,
      upMs: up - back,
      servingMs: serving - back,
      total: seen.total,
    };
  } finally {
    if (!stopped) await run.stop().catch(() => undefined);
    await setLinkUp(lab.host(1), true);
  }
}

const LABELS: [keyof Figures, string][] = [
  ['total', 'requests from the cut to the end'],
  ['lostInFlight', 'lost in flight at the cut'],
  ['failed', 'new connections failed'],
  ['slow', `new connections slower than ${SLOW_MS} ms`],
  ['maxMs', 'slowest new connection, ms'],
  ['recoveryMs', 'recovery: cut to last failed/slow, ms'],
  ['downMs', 'cut to B marked down (suspect), ms'],
  ['upMs', 'reconnect to B marked up (alive), ms'],
  ['servingMs', 'reconnect to B answering again, ms'],
];

function report(results: Record<Target, Figures[]>): void {
  console.log(
    `\n${'median of rounds'.padEnd(42)} ${'budgie'.padStart(8)} ${'haproxy'.padStart(8)} ${'ratio'.padStart(7)}`,
  );
  for (const [key, label] of LABELS) {
    const b = median(results.budgie.map((f) => f[key]));
    const h = median(results.haproxy.map((f) => f[key]));
    const ratio = h === 0 ? (b === 0 ? '-' : 'inf') : (b / h).toFixed(2);
    console.log(
      `${label.padEnd(42)} ${b.toFixed(0).padStart(8)} ${h.toFixed(0).padStart(8)} ${ratio.padStart(7)}`,
    );
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'budgie-bench-failover-'));
  let lab: ClusterLab | undefined;
  let haproxy: Haproxy | undefined;
  try {
    const images = await testImages();
    lab = await startClusterLab({
      label: 'bfo',
      agents: 2,
      hosts: 3,
      subnet: '10.185',
      heartbeat: [
        '--heartbeat',
        `${HEARTBEAT_MS}ms`,
        '--suspect-after',
        `${SUSPECT_MS}ms`,
        '--dead-after',
        `${DEAD_MS}ms`,
      ],
      main: MAIN,
    });
    await lab.form();
    const file = join(dir, 'web.bun');
    await writeFile(
      file,
      `version: "1.0"
name: web
image:
  oci_archive: ${images.busyboxOciTar}
ports:
  - container_port: 8080
    host_port: ${APP_PORT}
command: ["sh", "-c", "exec httpd -f -p 8080 -h /www"]
replicas:
  min: 1
  max: 2
stop_timeout: 200ms
`,
    );
    await must(lab, 0, 'run', file);
    const ps = JSON.parse(await must(lab, 0, 'ps', '--format', 'json')) as {
      id: string;
      ip: string;
    }[];
    const onA = ps[0]?.id.slice(0, 12) ?? '';
    const ipA = ps[0]?.ip ?? '';
    const onB = (await must(lab, 1, 'chirp', onA)).trim().slice(0, 12);
    // B opens its direct endpoint within a second of its replica turning ready.
    let direct: number[] = [];
    const ready = lab;
    await when(async () => (direct = await listeningPorts(ready, 1)).length === 1, 10_000);
    if (direct.length !== 1)
      throw new Error(`expected one direct endpoint on B, found [${direct.join(', ')}]`);
    haproxy = await startHaproxy({
      netnsPath: lab.host(0).netnsPath,
      bind: lab.host(0).address,
      port: HAPROXY_PORT,
      servers: { a: `${ipA}:8080`, b: `${lab.host(1).address}:${direct[0] ?? 0}` },
      interMs: HEARTBEAT_MS,
      fall: Math.max(1, Math.round(SUSPECT_MS / HEARTBEAT_MS)),
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      dir,
    });
    console.log(
      `node ${process.version}; heartbeat ${HEARTBEAT_MS} ms, suspect after ${SUSPECT_MS} ms; ` +
        `client: ${CONCURRENCY} in flight, new connection each, timeout ${CLIENT_TIMEOUT_MS} ms; ` +
        `B cut off for ${CUT_MS} ms; ${ROUNDS} round(s) per target\nhaproxy:\n${haproxy.config}`,
    );
    const ctx: Context = { lab, haproxy, onA, onB };
    const results: Record<Target, Figures[]> = { budgie: [], haproxy: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const target of ['budgie', 'haproxy'] as const) {
        const figures = await round(ctx, target);
        results[target].push(figures);
        console.log(`round ${r + 1} ${target}: ${JSON.stringify(figures)}`);
      }
    }
    report(results);
  } finally {
    await haproxy?.stop();
    const problems = (await lab?.remove(['web'])) ?? [];
    for (const p of problems) console.error(`cleaning up: ${p}`);
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});
