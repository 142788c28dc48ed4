/**
 * `budgie chirp` on a cluster of BENCH_NODES real agents (the cluster lab: network namespaces on
 * one bridge, a private containerd each), every node running BENCH_REPLICAS replicas of its own
 * app, against what an admin does without Budgie: `ctr containers ls` on each node's containerd,
 * one after another (without even the ssh hop each would need). Both sides list the same
 * containers; rounds alternate after one untimed warm-up each, and medians are printed with the
 * ratio. `budgie chirp` is a whole CLI process, so the same call through the agent's API (no CLI
 * process) is shown too. Needs root, containerd, ctr, runc, the CNI plugins and a built CLI (`npm
 * run build`). See bench/README.md for the command.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startClusterLab, type ClusterLab } from '../test/support/cluster-lab';
import { testImages } from '../test/support/images';
import { DEFAULT_HEARTBEAT, MAIN, median, must, pause, timed } from './cluster-common';

const exec = promisify(execFile);
const NODES = Number(process.env.BENCH_NODES ?? '5');
const REPLICAS = Number(process.env.BENCH_REPLICAS ?? '3');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '10');

const appName = (i: number): string => `fleet-${i}`;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'budgie-bench-chirp-'));
  let lab: ClusterLab | undefined;
  try {
    const images = await testImages();
    lab = await startClusterLab({
      label: 'bch',
      agents: NODES,
      hosts: NODES,
      subnet: '10.186',
      heartbeat: DEFAULT_HEARTBEAT,
      main: MAIN,
    });
    await lab.form();
    for (let i = 0; i < NODES; i++) {
      const file = join(dir, `${appName(i)}.bun`);
      await writeFile(
        file,
        `version: "1.0"
name: ${appName(i)}
image:
  oci_archive: ${images.busyboxOciTar}
command: ["sh", "-c", "exec httpd -f -p 8080 -h /www"]
replicas:
  min: ${REPLICAS}
stop_timeout: 200ms
`,
      );
      await must(lab, i, 'run', file);
    }
    const total = NODES * REPLICAS;
    const ready = lab;
    const socket = ready.agent(0).socket;
    const chirpCli = () =>
      exec(process.execPath, [MAIN, '--socket', socket, 'chirp', '--format', 'json']);
    const chirpApi = () => ready.agent(0).client.chirp({ timeoutMs: 1000, all: false });
    const ctrAll = async (): Promise<number> => {
      let rows = 0;
      for (let i = 0; i < NODES; i++) {
        const { socket: address, namespace } = ready.containerd(i);
        const { stdout } = await exec('ctr', [
          '-a',
          address,
          '-n',
          namespace,
          'containers',
          'ls',
          '-q',
        ]);
        rows += stdout.split('\n').filter((l) => l !== '').length;
      }
      return rows;
    };
    // Both must see every replica before anything is timed.
    for (let tries = 0; ; tries++) {
      const chirped = JSON.parse((await chirpCli()).stdout) as { replicas: unknown[] };
      const listed = await ctrAll();
      if (chirped.replicas.length === total && listed === total) break;
      if (tries > 120)
        throw new Error(
          `expected ${total} replicas, chirp shows ${chirped.replicas.length}, ctr ${listed}`,
        );
      await pause(500);
    }
    const ctrVersion = (await exec('ctr', ['--version'])).stdout.trim();
    console.log(
      `${ctrVersion}; node ${process.version}; ${NODES} nodes x ${REPLICAS} replicas = ${total}`,
    );
    const times = {
      ctr: [] as number[],
      cli: [] as number[],
      api: [] as number[],
      start: [] as number[],
    };
    // A CLI process's startup alone, which chirp's wall time includes.
    const startup = () => exec(process.execPath, [MAIN, '--version']);
    const rounds: [keyof typeof times, () => Promise<unknown>][] = [
      ['ctr', ctrAll],
      ['cli', chirpCli],
      ['api', chirpApi],
      ['start', startup],
    ];
    for (const [, fn] of rounds) await fn();
    for (let r = 0; r < ROUNDS; r++) {
      for (const [key, fn] of rounds) times[key].push(await timed(fn));
    }
    const row = (what: string, ms: readonly number[]): void => {
      console.log(
        `  ${what.padEnd(48)} ${median(ms).toFixed(1).padStart(7)} ms  [${ms.map((m) => m.toFixed(0)).join(' ')}]`,
      );
    };
    console.log(
      `\nlist every container of the cluster, ${ROUNDS} rounds after one warm-up each (median)`,
    );
    row(`ctr containers ls on each of ${NODES} nodes in turn`, times.ctr);
    row('budgie chirp (one CLI process)', times.cli);
    row('  the same through the API, no CLI', times.api);
    row('  budgie --version (CLI startup, no agent call)', times.start);
    console.log(
      `  ratio budgie chirp / ctr x${NODES}: ${(median(times.cli) / median(times.ctr)).toFixed(2)}`,
    );
    console.log(
      `  ratio API chirp / ctr x${NODES}:    ${(median(times.api) / median(times.ctr)).toFixed(2)}`,
    );
  } finally {
    const problems = (await lab?.remove(Array.from({ length: NODES }, (_, i) => appName(i)))) ?? [];
    for (const p of problems) console.error(`cleaning up: ${p}`);
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});
