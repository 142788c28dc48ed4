/**
 * Container start: Budgie's ContainerdRuntime (create + start) against `ctr run -d`, both running
 * `/bin/busybox sleep 60` from the same busybox image in the same private containerd, in one run.
 * Both append the container's output to a file (ctr through --log-uri) and get new namespaces
 * (network included). Killing and removing happen outside the timing. Needs root, containerd, ctr
 * and runc. See bench/README.md for the command.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { ContainerdClient } from '../src/containerd/client';
import { ContainerdRuntime } from '../src/containerd/container-runtime';
import { ContainerdImageStore } from '../src/containerd/image-store';
import { ClusterImageStore } from '../src/images';
import { silentLogger } from '../src/log';
import { RegistryClient } from '../src/registry';
import { startContainerd, type PrivateContainerd } from '../test/support/containerd';
import { testImages } from '../test/support/images';

const run = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '10');
const SNAPSHOTTER = 'overlayfs';
const COMMAND = ['/bin/busybox', 'sleep', '60'];

interface Context {
  containerd: PrivateContainerd;
  runtime: ContainerdRuntime;
  image: string;
  logs: string;
  signal: AbortSignal;
}

async function main(): Promise<void> {
  const stop = new AbortController();
  const onSignal = (): void => {
    stop.abort(new Error('interrupted'));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  const logs = await mkdtemp(join(tmpdir(), 'budgie-bench-containers-'));
  let containerd: PrivateContainerd | undefined;
  let client: ContainerdClient | undefined;
  try {
    const { busyboxDockerTar } = await testImages();
    containerd = await startContainerd();
    client = ContainerdClient.connect({
      socket: containerd.socket,
      namespace: containerd.namespace,
    });
    await client.ensureNamespace();
    const store = new ClusterImageStore({
      content: new ContainerdImageStore({ client, snapshotter: SNAPSHOTTER, log: silentLogger() }),
      registry: new RegistryClient({ logger: silentLogger() }),
      log: silentLogger(),
    });
    const [imported] = await store.importArchive(busyboxDockerTar, {
      signal: stop.signal,
      onEvent() {},
    });
    if (imported === undefined) throw new Error(`${busyboxDockerTar} held no image`);
    const runtime = new ContainerdRuntime(client, {
      snapshotter: SNAPSHOTTER,
      log: silentLogger(),
    });
    const ctx: Context = { containerd, runtime, image: imported.name, logs, signal: stop.signal };

    const version = (await run('ctr', ['--version'])).stdout.trim();
    console.log(`${version}; ${COMMAND.join(' ')} from ${imported.name}`);
    console.log(`${ROUNDS} rounds after one untimed warm-up each; Budgie keeps one client`);
    const times: Record<'ctr' | 'budgie', number[]> = { ctr: [], budgie: [] };
    for (let round = -1; round < ROUNDS; round++) {
      for (const side of ['ctr', 'budgie'] as const) {
        stop.signal.throwIfAborted();
        const ms = side === 'ctr' ? await ctrRound(ctx) : await budgieRound(ctx);
        if (round >= 0) times[side].push(ms);
      }
    }
    const ctr = median(times.ctr);
    const budgie = median(times.budgie);
    console.log(`ctr run -d           median ${ctr.toFixed(1)} ms  [${list(times.ctr)}]`);
    console.log(`budgie create+start  median ${budgie.toFixed(1)} ms  [${list(times.budgie)}]`);
    console.log(`budgie/ctr = ${(budgie / ctr).toFixed(2)} (lower is better)`);
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    client?.close();
    // Kills and deletes whatever task or container a failed round left in its namespace.
    await containerd?.stop().catch((err: unknown) => {
      console.error('stopping containerd:', err);
    });
    await rm(logs, { recursive: true, force: true });
  }
}

function newId(): string {
  return randomBytes(32).toString('hex');
}

async function ctrRound(ctx: Context): Promise<number> {
  const id = newId();
  const ctr = (...args: string[]) =>
    run('ctr', ['--address', ctx.containerd.socket, '-n', ctx.containerd.namespace, ...args], {
      signal: ctx.signal,
      timeout: 60_000,
    });
  const log = pathToFileURL(join(ctx.logs, `${id}.log`)).href;
  const start = performance.now();
  await ctr('run', '-d', '--snapshotter', SNAPSHOTTER, '--log-uri', log, ctx.image, id, ...COMMAND);
  const ms = performance.now() - start;
  await ctr('task', 'kill', '-s', 'KILL', id);
  // -f: the kill may not have landed yet.
  await ctr('task', 'rm', '-f', id);
  await ctr('containers', 'rm', id);
  return ms;
}

async function budgieRound(ctx: Context): Promise<number> {
  const id = newId();
  const start = performance.now();
  await ctx.runtime.create(
    {
      id,
      image: ctx.image,
      labels: {},
      command: COMMAND,
      entrypoint: [],
      environment: [],
      volumes: [],
      logPath: join(ctx.logs, `${id}.log`),
    },
    ctx.signal,
  );
  await ctx.runtime.start(id, ctx.signal);
  const ms = performance.now() - start;
  // busybox as PID 1 ignores SIGTERM: no grace, straight to SIGKILL.
  await ctx.runtime.stop(id, 0, ctx.signal);
  await ctx.runtime.remove(id, ctx.signal);
  return ms;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

function list(values: readonly number[]): string {
  return values.map((v) => v.toFixed(0)).join(' ');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
