/**
 * The CLI's start-up: `budgie ps` as a whole process (start to exit) against a real agent with
 * BENCH_REPLICAS (3) running replicas, against a bare `node -e ''` in the same run. Four ways
 * to run the same command, alternated round by round after one warm-up each:
 *
 * - `budgie ps`: dist/main.js, which runs the CLI's bundle (dist/cli-bundle.js) with V8's code cache;
 * - the bundle without the code cache (XDG_CACHE_HOME='');
 * - the compiled modules as before the bundle (dist/entry.js, some 300 modules);
 * - `budgie --version`, which calls no agent.
 *
 * Medians of BENCH_ROUNDS (15). The ratio is `budgie ps` over `node -e ''`: the goal is 2.0 at
 * most. Needs root, containerd, runc, the CNI plugins and `npm run build`.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { netnsPrefix } from '../src/network/naming';
import { startAgent, type AgentProcess } from '../test/support/agent';
import { startContainerd, type PrivateContainerd } from '../test/support/containerd';
import { testImages } from '../test/support/images';
import { freePort } from '../test/support/registry';
import { MAIN, median, repoRoot } from './cluster-common';

const exec = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '15');
const REPLICAS = Number(process.env.BENCH_REPLICAS ?? '3');
const ENTRY = join(repoRoot(), 'dist', 'entry.js');

async function main(): Promise<void> {
  const suffix = randomBytes(3).toString('hex');
  const bridge = `bc${suffix}`;
  const dir = await mkdtemp(join(tmpdir(), 'budgie-bench-cli-'));
  let containerd: PrivateContainerd | undefined;
  let agent: AgentProcess | undefined;
  try {
    const { busyboxDockerTar } = await testImages();
    containerd = await startContainerd();
    agent = await startAgent(
      containerd.socket,
      containerd.namespace,
      [
        '--bridge',
        bridge,
        '--subnet',
        `10.197.${16 + (parseInt(suffix.slice(0, 2), 16) % 200)}.0/24`,
        '--publish-address',
        '127.0.0.1',
      ],
      { main: MAIN },
    );
    const socket = agent.socket;
    const budgie = async (...args: string[]): Promise<string> =>
      (await exec(process.execPath, [MAIN, '--socket', socket, ...args])).stdout;
    const image = (await budgie('image', 'import', busyboxDockerTar)).split(' ')[0] ?? '';
    const bun = join(dir, 'web.bun');
    await writeFile(
      bun,
      `version: "1.0"\nname: web\nimage:\n  docker_image: "${image}"\nports:\n  - container_port: 8080\n    host_port: ${await freePort()}\nreplicas:\n  min: ${REPLICAS}\n  max: ${REPLICAS}\nstop_timeout: 200ms\n`,
    );
    await budgie('run', bun);
    const rows = (await budgie('ps')).trim().split('\n').length - 1;
    console.log(`node ${process.version}; budgie ps lists ${rows} replicas; ${ROUNDS} rounds`);

    const cached = { ...process.env };
    const uncached = { ...process.env, XDG_CACHE_HOME: '' };
    const sides: [string, string[], NodeJS.ProcessEnv][] = [
      [`node -e ''`, ['-e', ''], cached],
      ['budgie ps', [MAIN, '--socket', socket, 'ps'], cached],
      ['budgie ps, bundle without code cache', [MAIN, '--socket', socket, 'ps'], uncached],
      ['budgie ps, the modules (before)', [ENTRY, '--socket', socket, 'ps'], cached],
      ['budgie --version', [MAIN, '--version'], cached],
    ];
    const times = sides.map((): number[] => []);
    for (let round = -1; round < ROUNDS; round++) {
      for (const [i, [, args, env]] of sides.entries()) {
        const start = performance.now();
        await exec(process.execPath, args, { env });
        if (round >= 0) times[i]?.push(performance.now() - start);
      }
    }
    const node = median(times[0] ?? []);
    for (const [i, [label]] of sides.entries()) {
      const ms = median(times[i] ?? []);
      console.log(
        `  ${label.padEnd(40)} median ${ms.toFixed(0).padStart(4)} ms  ${(ms / node).toFixed(2)}× node`,
      );
    }
  } finally {
    // The app first, so that the agent removes its network namespaces; then what is left.
    if (agent !== undefined) {
      await exec(process.execPath, [MAIN, '--socket', agent.socket, 'stop', 'web']).catch(
        () => undefined,
      );
      await agent.stop();
    }
    if (containerd !== undefined) {
      const prefix = netnsPrefix(`test-${containerd.namespace}`);
      await containerd.stop();
      const left = (await readdir('/var/run/netns').catch(() => [])).filter((n) =>
        n.startsWith(prefix),
      );
      for (const netns of left) await exec('ip', ['netns', 'del', netns]).catch(() => undefined);
    }
    await exec('ip', ['link', 'del', bridge]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
