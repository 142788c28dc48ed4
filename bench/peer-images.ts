/**
 * Images shared peer to peer: the same image pulled into a fresh namespace of a private containerd
 * from a local docker-registry, and from members of a cluster, in one run. The members are two
 * real `budgie agent` processes (the built dist/main.js), each with its own containerd, which
 * pulled the image from the registry first; this process joins their cluster with its own node
 * certificate and talks to them over the peer API (mutual TLS on 127.0.0.1). Sides, alternating:
 *   registry      ContainerdImageStore.pull, no members (what a node outside a cluster does)
 *   1 member      the same pull in a cluster: resolved with the registry, layers from one member
 *   2 members     layers spread over both members
 *   join          ContainerdImageStore.fetch from one member, no registry (`budgie chirp ID`)
 * Needs root, containerd, docker-registry, skopeo and nginx. See bench/README.md.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import {
  BlobClient,
  ClusterImageStore,
  ImageCacheClient,
  memberBlobPeers,
  type ImageMember,
} from '../src/images';
import { PeerChannel } from '../src/peer';
import { ClusterIdentity } from '../src/trust';
import { ContainerdClient } from '../src/containerd/client';
import { ContainerdImageStore } from '../src/containerd/image-store';
import { writeOciLayoutDir } from '../src/tools/imagebuild/archives';
import { buildImage, type ImageSpec } from '../src/tools/imagebuild/image';
import { nginxImage } from '../src/tools/imagebuild/nginx';
import { TreeBuilder } from '../src/tools/imagebuild/tree-builder';
import { silentLogger } from '../src/log';
import { RegistryClient } from '../src/registry';
import type { BlobPeers } from '../src/runtime/images';
import { startAgent, type AgentProcess } from '../test/support/agent';
import { startContainerd, type PrivateContainerd } from '../test/support/containerd';
import { freePort, pushImage, startRegistry, type LocalRegistry } from '../test/support/registry';
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

const exec = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '5');
/** Incompressible layers added on top of nginx for the many-layer image, in MB. */
const EXTRA_LAYER_MB = Number(process.env.BENCH_LAYER_MB ?? '8');
const SIDES = ['registry', '1 member', '2 members', 'join'] as const;
type Side = (typeof SIDES)[number];

/** The repository root: the nearest directory up with a package.json (bench runs compiled). */
function repoRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new Error(`no package.json above ${__dirname}`);
}
const MAIN = join(repoRoot(), 'dist', 'main.js');

interface Member extends ImageMember {
  channel: PeerChannel;
}

interface Bench {
  puller: PrivateContainerd;
  members: Member[];
  signal: AbortSignal;
}

async function main(): Promise<void> {
  const stop = new AbortController();
  const onSignal = (): void => {
    stop.abort(new Error('interrupted'));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build`);
  const work = await mkdtemp(join(tmpdir(), 'budgie-bench-peer-images-'));
  const containerds: PrivateContainerd[] = [];
  const agents: AgentProcess[] = [];
  const members: Member[] = [];
  let registry: LocalRegistry | undefined;
  try {
    const nginx = await nginxImage();
    const images = [
      { name: 'nginx', spec: nginx },
      { name: 'layered', spec: withExtraLayers(nginx, 3) },
    ];
    registry = await startRegistry();
    for (const image of images) {
      const dir = join(work, image.name);
      await writeOciLayoutDir(dir, buildImage(image.spec));
      await pushImage(dir, registry.host, `bench/${image.name}:latest`);
    }
    containerds.push(...(await Promise.all([0, 1, 2].map(() => startContainerd()))));
    const [puller, ...holders] = containerds;
    if (puller === undefined) throw new Error('no containerd');
    const ports: number[] = [];
    for (const [i, holder] of holders.entries()) {
      const port = await freePort();
      ports.push(port);
      const suffix = randomBytes(3).toString('hex');
      agents.push(
        await startAgent(
          holder.socket,
          holder.namespace,
          [
            ...['--listen', `127.0.0.1:${port}`, '--advertise', '127.0.0.1', '--mdns', 'off'],
            ...['--bridge', `bp${suffix}${i}`, '--subnet', `10.197.${10 + i}.0/24`],
          ],
          { main: MAIN, nodeName: `bench-member-${'ab'[i] ?? i}` },
        ),
      );
    }
    const [first, second] = agents;
    if (first === undefined || second === undefined) throw new Error('no agents');
    const init = await budgie(first, 'cluster', 'init');
    const token = /BGT1\.[a-z2-7.]+/.exec(init)?.[0];
    if (token === undefined) throw new Error(`no token in: ${init}`);
    await budgie(second, 'cluster', 'join', token, '--peer', `127.0.0.1:${ports[0] ?? 0}`);
    const self = await new ClusterIdentity({ stateDir: join(work, 'puller') }).join(
      token,
      `127.0.0.1:${ports[0] ?? 0}`,
      { nodeName: 'bench-puller', addresses: ['127.0.0.1'] },
    );
    for (const [i, port] of ports.entries()) {
      const channel = new PeerChannel(self.identity, { host: '127.0.0.1', port });
      const blobs = new BlobClient(channel);
      const cache = new ImageCacheClient(channel);
      members.push({
        name: `member-${'ab'[i] ?? i}`,
        channel,
        client: {
          readBlob: blobs.readBlob.bind(blobs),
          hasBlobs: cache.hasBlobs.bind(cache),
          lookupImage: cache.lookupImage.bind(cache),
        },
      });
    }
    const version = (await exec('containerd', ['--version'])).stdout.trim();
    console.log(
      `${version}; node ${process.version}; ${ROUNDS} rounds per side, each pull into a fresh namespace`,
    );
    const bench: Bench = { puller, members, signal: stop.signal };
    for (const image of images) {
      const ref = `${registry.host}/bench/${image.name}:latest`;
      for (const agent of agents) await budgie(agent, 'image', 'pull', ref);
      await benchImage(bench, image.name, ref, await sizesOf(join(work, image.name)));
    }
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    for (const m of members) m.channel.close();
    await Promise.all(agents.map((a) => a.stop()));
    await Promise.all(containerds.map((c) => c.stop()));
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** nginx with `count` more layers of EXTRA_LAYER_MB random bytes each (gzip cannot shrink them). */
function withExtraLayers(base: ImageSpec, count: number): ImageSpec {
  const extra = Array.from({ length: count }, (_, i) =>
    new TreeBuilder().file(`/data/${i}`, randomBytes(EXTRA_LAYER_MB << 20)).build(),
  );
  return { ...base, layers: [...base.layers, ...extra] };
}

async function benchImage(bench: Bench, name: string, ref: string, sizes: Sizes): Promise<void> {
  const times = Object.fromEntries(SIDES.map((s) => [s, [] as number[]])) as Record<Side, number[]>;
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of SIDES) {
      bench.signal.throwIfAborted();
      const namespace = `bench-${round}-${randomBytes(4).toString('hex')}`;
      const client = ContainerdClient.connect({ socket: bench.puller.socket, namespace });
      try {
        await client.ensureNamespace();
        times[side].push(await pull(bench, side, namespace, ref));
        await checkUnpacked(client, side, sizes.layers);
        await collect(client);
      } finally {
        client.close();
      }
      await checkEmpty(bench.puller.root);
    }
  }
  const mb = sizes.bytes / 1e6;
  const label = `${name} (${mb.toFixed(1)} MB, ${sizes.layers} layer${sizes.layers === 1 ? '' : 's'})`;
  const registry = median(times.registry);
  for (const side of SIDES) {
    const ms = median(times[side]);
    const rate = `${(mb / (ms / 1000)).toFixed(1)} MB/s`;
    const ratio = side === 'registry' ? '' : `  ${(ms / registry).toFixed(2)}× the registry's time`;
    console.log(
      `${label}: ${side.padEnd(9)} median ${ms.toFixed(1)} ms  ${rate}${ratio}  [${list(times[side])}]`,
    );
  }
}

/** One pull into `namespace` from the side's source, timed from a new client as a new pull makes. */
async function pull(bench: Bench, side: Side, namespace: string, ref: string): Promise<number> {
  const start = performance.now();
  const client = ContainerdClient.connect({ socket: bench.puller.socket, namespace });
  const registry = new RegistryClient({ logger: silentLogger() });
  const count = side === '2 members' ? 2 : side === 'registry' ? 0 : 1;
  const members = bench.members.slice(0, count);
  const peers: BlobPeers | undefined =
    side === 'registry' || side === 'join'
      ? undefined
      : memberBlobPeers(() => members, silentLogger());
  try {
    const store = new ClusterImageStore({
      content: new ContainerdImageStore({ client, snapshotter: SNAPSHOTTER, log: silentLogger() }),
      registry,
      log: silentLogger(),
      ...(peers === undefined ? {} : { peers }),
    });
    const op = { signal: bench.signal, onEvent() {} };
    const member = bench.members[0];
    if (side === 'join' && member !== undefined) {
      const target = await member.client.lookupImage(ref, { signal: bench.signal });
      const provider = {
        open: (digest: string, offset: number, signal: AbortSignal) =>
          member.client.readBlob(digest, offset, signal),
      };
      await store.fetch({ name: ref, ...target }, provider, op);
    } else {
      await store.pull(ref, op);
    }
    return performance.now() - start;
  } finally {
    registry.close();
    client.close();
  }
}

/** The CLI against an agent, in a child process as a user runs it; its stdout. */
async function budgie(agent: AgentProcess, ...args: string[]): Promise<string> {
  const { stdout } = await exec(process.execPath, [MAIN, '--socket', agent.socket, ...args], {
    timeout: 120_000,
  });
  return stdout;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
