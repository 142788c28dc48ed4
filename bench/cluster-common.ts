/**
 * What the cluster benchmarks share: the built CLI, a cluster formed on the cluster lab, and
 * small statistics. The lab is the integration tests' own (agents in network namespaces on one
 * isolated bridge, each with a private containerd), so every run builds and removes its own.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ClusterLab } from '../test/support/cluster-lab';
import { inNetns } from '../test/support/netns';

/** The repository root: the nearest directory up with a package.json (benches run compiled). */
export function repoRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new Error(`no package.json above ${__dirname}`);
}

export const MAIN = join(repoRoot(), 'dist', 'main.js');

/** The agents' default heartbeat, suspect and dead times, as a user gets them. */
export const DEFAULT_HEARTBEAT = [
  '--heartbeat',
  '1s',
  '--suspect-after',
  '3s',
  '--dead-after',
  '10s',
];

/** Runs `budgie ARGS` on node i through the lab's CLI; throws with its stderr when it fails. */
export async function must(lab: ClusterLab, i: number, ...argv: string[]): Promise<string> {
  const r = await lab.budgie(i, ...argv);
  if (r.code !== 0) throw new Error(`budgie ${argv.join(' ')} on node ${i}: ${r.stderr}`);
  return r.stdout;
}

/** The TCP ports node i listens on at its lab address, its peer API (7447) left out. */
export async function listeningPorts(lab: ClusterLab, i: number): Promise<number[]> {
  const ss = await inNetns(lab.host(i).netnsPath, ['ss', '-ltnH']);
  return [...ss.matchAll(/\s(\d+\.\d+\.\d+\.\d+):(\d+)\s/g)]
    .filter((m) => m[1] === lab.host(i).address && m[2] !== '7447')
    .map((m) => Number(m[2]));
}

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
