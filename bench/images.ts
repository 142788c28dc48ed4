/**
 * Image pull: Budgie's ContainerdImageStore against `ctr images pull`, both pulling from the same
 * local docker-registry into the same private containerd, download and unpack for overlayfs, in
 * one run. Every pull goes to a fresh namespace and the previous pull's image, content and
 * snapshots are collected first (checked on disk), so nothing is cached between pulls. Needs root,
 * containerd, ctr, docker-registry, skopeo and nginx. See bench/README.md for the command.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { ContainerdClient } from '../src/containerd/client';
import { ContainerdImageStore } from '../src/containerd/image-store';
import { ClusterImageStore } from '../src/images';
import { writeOciLayoutDir } from '../src/tools/imagebuild/archives';
import { buildImage } from '../src/tools/imagebuild/image';
import { nginxImage } from '../src/tools/imagebuild/nginx';
import { silentLogger } from '../src/log';
import { RegistryClient } from '../src/registry';
import { startContainerd, type PrivateContainerd } from '../test/support/containerd';
import { testImages } from '../test/support/images';
import { pushImage, startRegistry, type LocalRegistry } from '../test/support/registry';
import {
  checkEmpty,
  checkUnpacked,
  collect,
  list,
  median,
  SNAPSHOTTER,
  sizesOf,
  type Sizes,
} from './pull-rounds';

const run = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '5');

interface BenchImage {
  name: string;
  layoutDir: string;
}

async function main(): Promise<void> {
  const stop = new AbortController();
  const onSignal = (): void => {
    stop.abort(new Error('interrupted'));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  const work = await mkdtemp(join(tmpdir(), 'budgie-bench-images-'));
  let registry: LocalRegistry | undefined;
  let containerd: PrivateContainerd | undefined;
  try {
    const nginxDir = join(work, 'nginx');
    await writeOciLayoutDir(nginxDir, buildImage(await nginxImage()));
    const images: BenchImage[] = [
      { name: 'nginx', layoutDir: nginxDir },
      { name: 'busybox', layoutDir: (await testImages()).busyboxLayoutDir },
    ];
    registry = await startRegistry();
    containerd = await startContainerd();
    const version = (await run('ctr', ['--version'])).stdout.trim();
    console.log(`${version}; ${ROUNDS} rounds per image, each pull into a fresh namespace`);
    for (const image of images) {
      await pushImage(image.layoutDir, registry.host, `bench/${image.name}:latest`);
      const ref = `${registry.host}/bench/${image.name}:latest`;
      await benchImage(containerd, image, ref, await sizesOf(image.layoutDir), stop.signal);
    }
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await containerd?.stop().catch((err: unknown) => {
      console.error('stopping containerd:', err);
    });
    await registry?.stop().catch((err: unknown) => {
      console.error('stopping the registry:', err);
    });
    await rm(work, { recursive: true, force: true });
  }
}

async function benchImage(
  containerd: PrivateContainerd,
  image: BenchImage,
  ref: string,
  sizes: Sizes,
  signal: AbortSignal,
): Promise<void> {
  const times: Record<'ctr' | 'budgie', number[]> = { ctr: [], budgie: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of ['ctr', 'budgie'] as const) {
      signal.throwIfAborted();
      const namespace = `bench-${side}-${round}-${randomBytes(4).toString('hex')}`;
      const client = ContainerdClient.connect({ socket: containerd.socket, namespace });
      try {
        await client.ensureNamespace();
        const ms =
          side === 'ctr'
            ? await ctrPull(containerd.socket, namespace, ref, signal)
            : await budgiePull(containerd.socket, namespace, ref, signal);
        times[side].push(ms);
        await checkUnpacked(client, side, sizes.layers);
        await collect(client);
      } finally {
        client.close();
      }
      await checkEmpty(containerd.root);
    }
  }
  const ctr = median(times.ctr);
  const budgie = median(times.budgie);
  const mb = sizes.bytes / 1e6;
  const rate = (ms: number): string => `${(mb / (ms / 1000)).toFixed(1)} MB/s`;
  const label = `${image.name} (${mb.toFixed(2)} MB, ${sizes.layers} layer${sizes.layers === 1 ? '' : 's'})`;
  console.log(`${label}: ctr    median ${ctr.toFixed(1)} ms  ${rate(ctr)}  [${list(times.ctr)}]`);
  console.log(
    `${label}: budgie median ${budgie.toFixed(1)} ms  ${rate(budgie)}  [${list(times.budgie)}]`,
  );
  console.log(`${label}: budgie/ctr = ${(budgie / ctr).toFixed(2)} (lower is better)`);
}

/** ctr's default pull: fetch, unpack for the snapshotter, write the image record. */
async function ctrPull(
  socket: string,
  namespace: string,
  ref: string,
  signal: AbortSignal,
): Promise<number> {
  const args = ['--address', socket, '-n', namespace, 'images', 'pull', '--plain-http'];
  args.push('--snapshotter', SNAPSHOTTER, ref);
  const start = performance.now();
  await run('ctr', args, { signal, timeout: 300_000 });
  return performance.now() - start;
}

/** The same through Budgie: a new client as a new ctr process would make, then pull. */
async function budgiePull(
  socket: string,
  namespace: string,
  ref: string,
  signal: AbortSignal,
): Promise<number> {
  const start = performance.now();
  const client = ContainerdClient.connect({ socket, namespace });
  try {
    const store = new ClusterImageStore({
      content: new ContainerdImageStore({ client, snapshotter: SNAPSHOTTER, log: silentLogger() }),
      registry: new RegistryClient({ logger: silentLogger() }),
      log: silentLogger(),
    });
    await store.pull(ref, { signal, onEvent() {} });
    return performance.now() - start;
  } finally {
    client.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
