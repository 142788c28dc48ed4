/**
 * Volume sync end to end on the cluster lab (real agents in network namespaces, each with its
 * own containerd), against rsync's daemon over loopback on the same files in the same run:
 * - a BENCH_MB (100) MiB file with 100 scattered 10 KB edits: literal bytes on the wire and wall
 *   time (Budgie: from the first write on A until B's copy has the new version; rsync:
 *   `rsync -I --no-whole-file` of the edited file onto the old one);
 * - the first sync of BENCH_FILES (10,000) small files (1-64 KB): Budgie from moving the
 *   directory into A's volume until every file is on B; rsync `-a` into an empty module;
 * - the propagation latency of a 1 KB change from A to two other nodes (median and p99 of
 *   BENCH_CHANGES (40) changes, each node's arrival a sample);
 * - the agents' peak RSS while a BENCH_GIB (1) GiB batch of 64 MiB files syncs from A to B.
 * Needs root, containerd, runc, the CNI plugins, rsync and a built CLI. See bench/README.md.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  mkdir,
  mkdtemp,
  open,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startClusterLab, type ClusterLab } from '../test/support/cluster-lab';
import { testImages } from '../test/support/images';
import { DEFAULT_HEARTBEAT, MAIN, median, must, pause } from './cluster-common';

const exec = promisify(execFile);
const MB = Number(process.env.BENCH_MB ?? '100');
const FILES = Number(process.env.BENCH_FILES ?? '10000');
const CHANGES = Number(process.env.BENCH_CHANGES ?? '40');
const GIB = Number(process.env.BENCH_GIB ?? '1');
/** The parts to run (delta, small, rss, latency), all by default: one alone to profile it. */
const PARTS = new Set((process.env.BENCH_PARTS ?? 'delta,small,rss,latency').split(','));
const APP = 'bsync';
const RSYNC_PORT = 18873;

async function until(
  what: string,
  ms: number,
  check: () => Promise<boolean>,
  every = 10,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(every);
  }
}

/** An rsync daemon on 127.0.0.1 with one writable module at `dir`. */
async function rsyncDaemon(work: string, dir: string): Promise<{ url: string; stop(): void }> {
  const conf = join(work, 'rsyncd.conf');
  await writeFile(
    conf,
    `use chroot = no\nuid = root\ngid = root\n[mod]\npath = ${dir}\nread only = no\n`,
  );
  const child = spawn(
    'rsync',
    ['--daemon', '--no-detach', `--config=${conf}`, `--port=${RSYNC_PORT}`, '--address=127.0.0.1'],
    {
      stdio: 'ignore',
    },
  );
  await pause(500);
  return { url: `rsync://127.0.0.1:${RSYNC_PORT}/mod`, stop: () => child.kill() };
}

async function rsyncTo(args: string[]): Promise<{ ms: number; literal: number }> {
  const start = performance.now();
  const { stdout } = await exec('rsync', ['--stats', ...args], { maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - start;
  const literal = Number(
    /Literal data: ([\d,.]+) bytes/.exec(stdout)?.[1]?.replace(/[,.]/g, '') ?? NaN,
  );
  return { ms, literal };
}

async function literalOn(lab: ClusterLab, i: number): Promise<number> {
  const out = await must(lab, i, 'sync', 'status', APP, '--format', 'json');
  return (JSON.parse(out) as { receivedLiteralBytes: number }[])[0]?.receivedLiteralBytes ?? 0;
}

function rssMb(pid: number | undefined): Promise<number> {
  if (pid === undefined) return Promise.resolve(0);
  return readFile(`/proc/${pid}/status`, 'utf8').then(
    (s) => Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024,
    () => 0,
  );
}

/** Every file under `dir` with its size, one line each, sorted: two equal trees say the same. */
async function treeOf(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const lines = await Promise.all(
    entries
      .filter((e) => e.isFile() && !e.name.startsWith('.budgie-sync-'))
      .map(async (e) => {
        const path = join(e.parentPath, e.name);
        return `${path.slice(dir.length)} ${(await stat(path)).size}`;
      }),
  );
  return lines.sort().join('\n');
}

const ratio = (a: number, b: number): string => (a / b).toFixed(2);

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'budgie-bench-vsync-'));
  const volume = join(work, 'volume');
  const rsyncDest = join(work, 'rsync-dest');
  await mkdir(volume);
  await mkdir(rsyncDest);
  const daemon = await rsyncDaemon(work, rsyncDest);
  let lab: ClusterLab | undefined;
  try {
    const images = await testImages();
    lab = await startClusterLab({
      label: 'bvs',
      agents: 3,
      hosts: 3,
      subnet: '10.183',
      heartbeat: DEFAULT_HEARTBEAT,
      main: MAIN,
    });
    const l = lab;
    const copyOn = (i: number, ...p: string[]): string =>
      join(l.agent(i).stateDir, 'volumes', APP, '0', ...p);
    const file = join(work, 'app.bun');
    await writeFile(
      file,
      `version: "1.0"\nname: ${APP}\nimage:\n  oci_archive: ${images.busyboxOciTar}\nvolumes:\n  - source: ${volume}\n    target: /data\ncommand: ["sh", "-c", "exec httpd -f -p 8080 -h /data"]\nreplicas:\n  min: 1\n  max: 3\nstop_timeout: 200ms\n`,
    );
    await must(l, 0, 'run', file);
    await l.form();
    const replicaId = async (): Promise<string> => {
      const out = await must(l, 0, 'ps', '--format', 'json');
      return (JSON.parse(out) as { id: string }[])[0]?.id.slice(0, 12) ?? '';
    };
    await must(l, 1, 'chirp', await replicaId());
    const { stdout: version } = await exec('rsync', ['--version']);
    console.log(
      `${version.split('\n')[0] ?? 'rsync'} daemon on 127.0.0.1; Budgie A → B over the lab bridge (mTLS)`,
    );

    if (PARTS.has('delta')) await scatteredEdits(l, daemon.url, volume, rsyncDest, work, copyOn);
    if (PARTS.has('small')) await smallFiles(daemon.url, volume, work, copyOn);
    if (PARTS.has('rss')) await batchRss(l, volume, work, copyOn);
    if (PARTS.has('latency')) await latency(l, volume, copyOn, replicaId);
  } finally {
    daemon.stop();
    const failed = (await lab?.remove([APP])) ?? [];
    if (failed.length > 0) console.error(`cleanup: ${failed.join('; ')}`);
    await rm(work, { recursive: true, force: true });
  }
}

type CopyOn = (i: number, ...p: string[]) => string;

/** 1. Scattered edits in a large file. */
async function scatteredEdits(
  l: ClusterLab,
  url: string,
  volume: string,
  rsyncDest: string,
  work: string,
  copyOn: CopyOn,
): Promise<void> {
  const size = MB * 1024 * 1024;
  const basis = randomBytes(size);
  await writeFile(join(volume, 'big.bin'), basis);
  await writeFile(join(rsyncDest, 'big.bin'), basis);
  await until(
    'big.bin on B',
    120_000,
    async () => (await stat(copyOn(1, 'big.bin')).catch(() => undefined))?.size === size,
    100,
  );
  await pause(1000);
  const edited = Buffer.from(basis);
  for (let i = 0; i < 100; i++)
    randomBytes(10_240).copy(edited, Math.floor(((i + 0.5) * size) / 100));
  const marker = new Date(Math.floor(Date.now() / 1000) * 1000 + 5000);
  const before = await literalOn(l, 1);
  const start = performance.now();
  const fh = await open(join(volume, 'big.bin'), 'r+');
  await fh.write(edited, 0, size, 0);
  await fh.close();
  await utimes(join(volume, 'big.bin'), marker, marker);
  await until(
    'the edits on B',
    120_000,
    async () =>
      (await stat(copyOn(1, 'big.bin')).catch(() => undefined))?.mtimeMs === marker.getTime(),
  );
  const budgieMs = performance.now() - start;
  const budgieLiteral = (await literalOn(l, 1)) - before;
  const src = join(work, 'src');
  await mkdir(src);
  await writeFile(join(src, 'big.bin'), edited);
  const r = await rsyncTo(['-I', '--no-whole-file', join(src, 'big.bin'), `${url}/`]);
  // Budgie fsyncs every file it writes; rsync only when asked: both are printed.
  await writeFile(join(rsyncDest, 'big.bin'), basis);
  const rf = await rsyncTo(['-I', '--no-whole-file', '--fsync', join(src, 'big.bin'), `${url}/`]);
  console.log(`${MB} MiB file, 100 scattered 10 KB edits:`);
  console.log(
    `  literal bytes  budgie ${budgieLiteral}  rsync ${r.literal}  ratio ${ratio(budgieLiteral, r.literal)}`,
  );
  console.log(
    `  wall time ms   budgie ${budgieMs.toFixed(0)}  rsync ${r.ms.toFixed(0)}  ratio ${ratio(budgieMs, r.ms)}; rsync --fsync ${rf.ms.toFixed(0)}  ratio ${ratio(budgieMs, rf.ms)}`,
  );
}

/** 2. First sync of many small files. */
async function smallFiles(
  url: string,
  volume: string,
  work: string,
  copyOn: CopyOn,
): Promise<void> {
  const staging = join(work, 'staging');
  await mkdir(staging);
  let total = 0;
  for (let i = 0; i < FILES; i++) {
    const bytes = randomBytes(1024 + Math.floor(Math.random() * 63 * 1024));
    total += bytes.length;
    await writeFile(join(staging, `f${i}.bin`), bytes);
  }
  const rs = await rsyncTo(['-a', `${staging}/`, `${url}/small/`]);
  const rsf = await rsyncTo(['-a', '--fsync', `${staging}/`, `${url}/small-fsync/`]);
  const t0 = performance.now();
  await rename(staging, join(volume, 'small'));
  await until(
    'the small files on B',
    600_000,
    async () =>
      (await readdir(copyOn(1, 'small')).catch(() => [])).filter((f) => !f.startsWith('.'))
        .length === FILES,
    50,
  );
  const smallMs = performance.now() - t0;
  console.log(`first sync of ${FILES} files of 1-64 KB (${(total / 1048576).toFixed(0)} MiB):`);
  console.log(
    `  wall time ms   budgie ${smallMs.toFixed(0)}  rsync ${rs.ms.toFixed(0)}  ratio ${ratio(smallMs, rs.ms)}; rsync --fsync ${rsf.ms.toFixed(0)}  ratio ${ratio(smallMs, rsf.ms)}`,
  );
}

/** 3. Agent RSS while a large batch syncs. */
async function batchRss(
  l: ClusterLab,
  volume: string,
  work: string,
  copyOn: CopyOn,
): Promise<void> {
  const batch = join(work, 'batch');
  await mkdir(batch);
  const parts = GIB * 16;
  for (let i = 0; i < parts; i++)
    await writeFile(join(batch, `part${i}.bin`), randomBytes(64 * 1024 * 1024));
  const peak = [0, 0];
  const sampling = { on: true };
  const sampler = (async () => {
    while (sampling.on) {
      for (const i of [0, 1]) peak[i] = Math.max(peak[i] ?? 0, await rssMb(l.agent(i).process.pid));
      await pause(100);
    }
  })();
  const t1 = performance.now();
  await rename(batch, join(volume, 'batch'));
  await until(
    'the batch on B',
    900_000,
    async () => {
      const names = await readdir(copyOn(1, 'batch')).catch(() => []);
      return names.filter((f) => f.startsWith('part')).length === parts;
    },
    200,
  );
  sampling.on = false;
  await sampler;
  console.log(
    `${GIB} GiB in ${parts} files of 64 MiB: ${((performance.now() - t1) / 1000).toFixed(1)} s; peak RSS agent A ${peak[0]?.toFixed(0)} MB, agent B ${peak[1]?.toFixed(0)} MB (goal < 200 MB)`,
  );
}

/** 4. Propagation latency to two nodes. */
async function latency(
  l: ClusterLab,
  volume: string,
  copyOn: CopyOn,
  replicaId: () => Promise<string>,
): Promise<void> {
  await must(l, 2, 'chirp', await replicaId());
  const want = await treeOf(volume);
  await until('C caught up', 900_000, async () => (await treeOf(copyOn(2))) === want, 500);
  const samples: number[] = [];
  const arrivals: { change: number; node: number; ms: number }[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const text = `change ${i} ${randomBytes(500).toString('hex')}`.slice(0, 1024);
    const t = performance.now();
    await writeFile(join(volume, 'latency.txt'), text);
    const arrived = async (node: number): Promise<void> => {
      await until(
        `change ${i} on node ${node}`,
        30_000,
        async () => (await readFile(copyOn(node, 'latency.txt'), 'utf8').catch(() => '')) === text,
        2,
      );
      samples.push(performance.now() - t);
      arrivals.push({ change: i, node, ms: performance.now() - t });
    };
    await Promise.all([arrived(1), arrived(2)]);
    await pause(100);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? NaN;
  console.log(
    `propagation of a 1 KB change to 2 nodes (${samples.length} arrivals): median ${median(samples).toFixed(0)} ms, p99 ${p99.toFixed(0)} ms (goal p99 < 1000 ms); slowest ${sorted
      .slice(-4)
      .map((ms) => ms.toFixed(0))
      .join(', ')} ms`,
  );
  const slowest = [...arrivals].sort((a, b) => b.ms - a.ms).slice(0, 2);
  console.log(
    `  slowest arrivals: ${slowest.map((a) => `change ${a.change} on node ${a.node} ${a.ms.toFixed(0)} ms`).join('; ')}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
