/**
 * Apps end to end, with a real `budgie agent` process on a private containerd, in one run:
 *
 * - start: `budgie run` of a one-replica busybox httpd app until the first HTTP 200 through its
 *   published port, against `ctr run -d --net-host` of the same image (host networking: no netns
 *   setup, no proxy; the lower bound) plus polling until its httpd answers on the host port;
 * - list: `budgie ps` wall time against `ctr containers ls`, both listing the same replicas
 *   (BENCH_PS_REPLICAS, then BENCH_RSS_REPLICAS running); both are whole processes, so the
 *   startup of `node` and of the CLI alone (`budgie --version`) are shown as well;
 * - memory: the agent's VmRSS idle, with BENCH_PS_REPLICAS and with BENCH_RSS_REPLICAS replicas
 *   (reached with `budgie scale`).
 *
 * Start and list also run through the agent's API from this process (no CLI process), to tell
 * the agent's share from the CLI's startup. Rounds alternate ctr, budgie and the API after one
 * untimed warm-up each; medians are printed. Needs root, containerd, ctr, runc, the CNI plugins
 * and a built CLI (`npm run build`). See bench/README.md for the command.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { AgentClient } from '../src/api/client';
import { loadBundle, type App } from '../src/bundle';
import { netnsPrefix } from '../src/network/naming';
import { startAgent, type AgentProcess } from '../test/support/agent';
import { startContainerd, type PrivateContainerd } from '../test/support/containerd';
import { testImages } from '../test/support/images';
import { freePort } from '../test/support/registry';

const exec = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '5');
const PS_REPLICAS = Number(process.env.BENCH_PS_REPLICAS ?? '10');
const RSS_REPLICAS = Number(process.env.BENCH_RSS_REPLICAS ?? '50');
const RSS_GOAL_MB = 150;
const HTTPD_PORT = 8080;

/** The repository root: the nearest directory up with a package.json (bench runs compiled). */
function repoRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new Error(`no package.json above ${__dirname}`);
}
const MAIN = join(repoRoot(), 'dist', 'main.js');

interface Context {
  containerd: PrivateContainerd;
  agent: AgentProcess;
  /** Image name as the agent imported it; ctr runs the same one. */
  image: string;
  dir: string;
  signal: AbortSignal;
}

async function main(): Promise<void> {
  const stop = new AbortController();
  const onSignal = (): void => {
    stop.abort(new Error('interrupted'));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build`);
  const suffix = randomBytes(3).toString('hex');
  const bridge = `bb${suffix}`;
  const subnet = `10.198.${16 + (parseInt(suffix.slice(0, 2), 16) % 200)}.0/24`;
  const dir = await mkdtemp(join(tmpdir(), 'budgie-bench-apps-'));
  let containerd: PrivateContainerd | undefined;
  let agent: AgentProcess | undefined;
  try {
    const { busyboxDockerTar } = await testImages();
    containerd = await startContainerd();
    agent = await startAgent(
      containerd.socket,
      containerd.namespace,
      ['--bridge', bridge, '--subnet', subnet, '--publish-address', '127.0.0.1'],
      { main: MAIN },
    );
    const imported = await budgie(agent, stop.signal, 'image', 'import', busyboxDockerTar);
    const image = imported.split(' ')[0] ?? '';
    const ctx: Context = { containerd, agent, image, dir, signal: stop.signal };
    const version = (await exec('ctr', ['--version'])).stdout.trim();
    console.log(
      `${version}; node ${process.version}; image ${image}; agent pid ${agent.process.pid}`,
    );
    const idleRss = await rssMb(agent);

    console.log(`\nstart to first HTTP 200, ${ROUNDS} rounds after one warm-up each`);
    const starts = await alternate(ROUNDS, {
      ctr: () => ctrStart(ctx),
      budgie: () => budgieStart(ctx, 'cli'),
      api: () => budgieStart(ctx, 'api'),
    });
    report('ctr run -d --net-host + poll', starts.ctr);
    report('budgie run (bridge, proxy) + poll', starts.budgie);
    report('  the same through the API, no CLI', starts.api);
    ratio('budgie', starts.budgie, starts.ctr);
    ratio('api', starts.api, starts.ctr);

    const fleet = await fleetBun(ctx);
    await budgie(agent, stop.signal, 'run', fleet);
    await untilRunning(ctx, PS_REPLICAS);
    await listRounds(ctx, PS_REPLICAS);
    // Both sides are whole processes: what starting one costs, without any call to the agent.
    const startup = async (args: string[]): Promise<number[]> => {
      const ms: number[] = [];
      for (let i = 0; i < ROUNDS; i++) ms.push(await timed(() => exec(process.execPath, args)));
      return ms;
    };
    report(`node -e ''`, await startup(['-e', '']));
    report('budgie --version (no agent call)', await startup([MAIN, '--version']));
    const psRss = await rssMb(agent);

    const scaleStart = performance.now();
    await budgie(agent, stop.signal, 'scale', 'fleet', String(RSS_REPLICAS));
    await untilRunning(ctx, RSS_REPLICAS);
    const scaleMs = performance.now() - scaleStart;
    await listRounds(ctx, RSS_REPLICAS);
    // Let restarts, health probes and garbage settle before sampling.
    await new Promise((r) => setTimeout(r, 3000));
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      samples.push(await rssMb(agent));
      await new Promise((r) => setTimeout(r, 1000));
    }

    console.log(
      `\nscale 10 -> ${RSS_REPLICAS} until all running: ${(scaleMs / 1000).toFixed(1)} s`,
    );
    console.log('agent VmRSS');
    console.log(`  idle, no replica         ${idleRss.toFixed(1)} MB`);
    console.log(
      `  ${String(PS_REPLICAS).padStart(2)} replicas              ${psRss.toFixed(1)} MB`,
    );
    const rss = median(samples);
    const verdict = rss < RSS_GOAL_MB ? 'under' : 'OVER';
    console.log(
      `  ${RSS_REPLICAS} replicas              ${rss.toFixed(1)} MB median of [${list(samples, 1)}]` +
        ` (${verdict} the ${RSS_GOAL_MB} MB goal)`,
    );
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await cleanUp(agent, containerd, bridge, dir);
  }
}

/** Stops the apps (so the agent removes their namespaces), then everything this bench started. */
async function cleanUp(
  agent: AgentProcess | undefined,
  containerd: PrivateContainerd | undefined,
  bridge: string,
  dir: string,
): Promise<void> {
  const report = (what: string) => (err: unknown) => {
    console.error(`cleaning up ${what}:`, err instanceof Error ? err.message : err);
  };
  if (agent !== undefined) {
    for (const app of ['start', 'fleet']) {
      await exec(process.execPath, [MAIN, '--socket', agent.socket, 'stop', app], {
        timeout: 120_000,
      }).catch(() => undefined);
    }
    await agent.stop().catch(report('the agent'));
  }
  if (containerd !== undefined) {
    const prefix = netnsPrefix(`test-${containerd.namespace}`);
    await containerd.stop().catch(report('containerd'));
    const left = (await readdir('/var/run/netns').catch(() => [])).filter((n) =>
      n.startsWith(prefix),
    );
    for (const netns of left) await exec('ip', ['netns', 'del', netns]).catch(report(netns));
  }
  await exec('ip', ['link', 'del', bridge]).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}

/** Runs the CLI against the agent; resolves with its stdout, rejects with its stderr. */
async function budgie(agent: AgentProcess, signal: AbortSignal, ...args: string[]) {
  const { stdout } = await exec(process.execPath, [MAIN, '--socket', agent.socket, ...args], {
    signal,
    timeout: 300_000,
  });
  return stdout;
}

function ctr(ctx: Context, ...args: string[]) {
  return exec(
    'ctr',
    ['--address', ctx.containerd.socket, '-n', ctx.containerd.namespace, ...args],
    {
      signal: ctx.signal,
      timeout: 60_000,
    },
  );
}

/** `cli`: the `budgie run` process; `api`: the same RunApp call from this process. */
async function budgieStart(ctx: Context, via: 'cli' | 'api'): Promise<number> {
  const port = await freePort();
  const file = join(ctx.dir, 'start.bun');
  await writeFile(
    file,
    `version: "1.0"
name: start
image:
  docker_image: "${ctx.image}"
ports:
  - container_port: ${HTTPD_PORT}
    host_port: ${port}
stop_timeout: 200ms
`,
  );
  const app = await loadBundle(file);
  const ms = await timed(async () => {
    if (via === 'cli') await budgie(ctx.agent, ctx.signal, 'run', file);
    else await runApp(ctx.agent.client, app, ctx.signal);
    await untilHttp(port, ctx.signal);
  });
  await ctx.agent.client.stopApp('start');
  return ms;
}

/** Returns once the agent reports the replicas running, as `budgie run` does. */
async function runApp(client: AgentClient, app: App, signal: AbortSignal): Promise<void> {
  for await (const ev of client.runApp(app, { detach: false }, signal)) {
    if (ev.event?.$case === 'done') return;
  }
  throw new Error(`the agent ended the run of ${app.name} without a result`);
}

async function ctrStart(ctx: Context): Promise<number> {
  const id = randomBytes(32).toString('hex');
  const port = await freePort();
  const log = pathToFileURL(join(ctx.dir, `${id}.log`)).href;
  const httpd = ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', '/www'];
  const ms = await timed(async () => {
    await ctr(ctx, 'run', '-d', '--net-host', '--log-uri', log, ctx.image, id, ...httpd);
    await untilHttp(port, ctx.signal);
  });
  await ctr(ctx, 'task', 'kill', '-s', 'KILL', id);
  await ctr(ctx, 'task', 'rm', '-f', id);
  await ctr(ctx, 'containers', 'rm', id);
  return ms;
}

/** `budgie ps` against `ctr containers ls` with `replicas` running; prints medians and the ratio. */
async function listRounds(ctx: Context, replicas: number): Promise<void> {
  const lines = async (run: () => Promise<string>): Promise<number> => {
    const out = await run();
    return out.trimEnd().split('\n').length - 1;
  };
  const budgiePs = () => budgie(ctx.agent, ctx.signal, 'ps');
  const ctrLs = async () => (await ctr(ctx, 'containers', 'ls')).stdout;
  const shown = [await lines(budgiePs), await lines(ctrLs)];
  if (shown.some((n) => n !== replicas)) {
    throw new Error(`expected ${replicas} rows from ps and ctr, got ${shown.join(' and ')}`);
  }
  console.log(`\nlist ${replicas} running replicas, ${ROUNDS} rounds after one warm-up each`);
  const times = await alternate(ROUNDS, {
    ctr: () => timed(ctrLs),
    budgie: () => timed(budgiePs),
    api: () => timed(() => ctx.agent.client.listReplicas({ all: false })),
  });
  report('ctr containers ls', times.ctr);
  report('budgie ps', times.budgie);
  report('  the same through the API, no CLI', times.api);
  ratio('budgie', times.budgie, times.ctr);
  ratio('api', times.api, times.ctr);
}

async function fleetBun(ctx: Context): Promise<string> {
  const file = join(ctx.dir, 'fleet.bun');
  await writeFile(
    file,
    `version: "1.0"
name: fleet
image:
  docker_image: "${ctx.image}"
ports:
  - container_port: ${HTTPD_PORT}
    host_port: ${await freePort()}
replicas:
  min: ${PS_REPLICAS}
  max: ${Math.max(PS_REPLICAS, RSS_REPLICAS)}
stop_timeout: 200ms
`,
  );
  return file;
}

async function untilRunning(ctx: Context, replicas: number): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const out = await budgie(ctx.agent, ctx.signal, 'ps', '--format', 'json');
    const rows = JSON.parse(out) as { state: string }[];
    if (rows.filter((r) => r.state === 'running').length >= replicas) return;
    if (Date.now() > deadline) throw new Error(`${replicas} replicas never all ran`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Polls GET /health on a fresh connection every 5 ms until it answers 200. */
async function untilHttp(port: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await httpOk(port))) {
    signal.throwIfAborted();
    if (Date.now() > deadline) throw new Error(`nothing answered HTTP on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function httpOk(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/health', agent: false }, (res) => {
      res.resume();
      res.on('end', () => {
        resolve(res.statusCode === 200);
      });
    });
    req.setTimeout(1000, () => req.destroy());
    req.on('error', () => {
      resolve(false);
    });
  });
}

async function rssMb(agent: AgentProcess): Promise<number> {
  const status = await readFile(`/proc/${agent.process.pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error('no VmRSS for the agent');
  return Number(kb) / 1024;
}

/** Each side in turn, `rounds` times after one untimed warm-up each; milliseconds per round. */
async function alternate<Side extends string>(
  rounds: number,
  run: Record<Side, () => Promise<number>>,
): Promise<Record<Side, number[]>> {
  const sides = Object.keys(run) as Side[];
  const times = Object.fromEntries(sides.map((side) => [side, []])) as unknown as Record<
    Side,
    number[]
  >;
  for (let round = -1; round < rounds; round++) {
    for (const side of sides) {
      const ms = await run[side]();
      if (round >= 0) times[side].push(ms);
    }
  }
  return times;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

function report(label: string, ms: readonly number[]): void {
  console.log(
    `  ${label.padEnd(36)} median ${median(ms).toFixed(1).padStart(7)} ms  [${list(ms)}]`,
  );
}

function ratio(label: string, ms: readonly number[], ctr: readonly number[]): void {
  const r = median(ms) / median(ctr);
  console.log(`  ${label}/ctr = ${r.toFixed(2)} (lower is better)`);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

function list(values: readonly number[], digits = 0): string {
  return values.map((v) => v.toFixed(digits)).join(' ');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
