import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { netnsPrefix } from '../../src/network/naming';
import { startAgent, type AgentProcess } from './agent';
import { createBridgeLab, type BridgeLab, type LabHost } from './bridge-lab';
import { cli, type CliRun } from './cli';
import { startContainerd, type PrivateContainerd } from './containerd';
import { netnsNames, randomHex } from './netns';

const run = promisify(execFile);

/** Short heartbeats, so that tests see suspect and dead members within seconds. */
export const TEST_HEARTBEAT = [
  '--heartbeat',
  '300ms',
  '--suspect-after',
  '1s',
  '--dead-after',
  '3s',
];

export interface ClusterLabOptions {
  /** Names the bridge lab, the nodes and the replica bridges; a few lowercase letters. */
  label: string;
  /** Agents to start, in the first lab hosts. */
  agents: number;
  /** Lab hosts (network namespaces on the bridge); those past `agents` stay empty (strangers). */
  hosts: number;
  /** The first two octets of the replica subnets, e.g. '10.189': each agent gets its own /24. */
  subnet: string;
  /** Heartbeat flags for every agent; default TEST_HEARTBEAT (benchmarks pass the defaults'). */
  heartbeat?: readonly string[];
  /** The built CLI the agents run; default this repo's dist/main.js (benches are compiled elsewhere). */
  main?: string;
}

/**
 * Real agents in network namespaces on one isolated bridge, each with its own private containerd
 * (in the root namespace) and its own replica bridge and subnet, advertising its lab address, mDNS
 * off (tests join by address).
 */
export interface ClusterLab {
  lab: BridgeLab;
  nodeName(i: number): string;
  host(i: number): LabHost;
  agent(i: number): AgentProcess;
  containerd(i: number): PrivateContainerd;
  /** The CLI against agent i. */
  budgie(i: number, ...argv: string[]): Promise<CliRun>;
  /**
   * Kills agent i (SIGKILL) and starts it again on the same state; resolves once it serves.
   * `whileDown` runs between the two (what happens on the cluster while the node is away).
   */
  restart(i: number, whileDown?: () => Promise<void>): Promise<AgentProcess>;
  /**
   * `cluster init` on agent 0, agents 1.. join through it; waits until every agent sees all alive.
   * Throws with the CLI's output when a step fails. Returns the join token.
   */
  form(): Promise<string>;
  /** Waits until agent i sees `count` members alive. */
  allAlive(i: number, count: number): Promise<void>;
  /** Stops `apps` on every agent, then the agents, containerds and lab; returns what failed. */
  remove(apps: readonly string[]): Promise<string[]>;
}

export async function startClusterLab(options: ClusterLabOptions): Promise<ClusterLab> {
  const suffix = randomHex(4);
  const third = parseInt(suffix.slice(0, 2), 16) % 120;
  const nodeName = (i: number): string => `${options.label}-${'abcdefgh'[i] ?? i}-${suffix}`;
  const indexes = Array.from({ length: options.agents }, (_, i) => i);
  const lab = await createBridgeLab(options.hosts, options.label);
  const containerds: PrivateContainerd[] = [];
  const agents: AgentProcess[] = [];
  /** How each agent was started, to start it again the same way. */
  const starts: (() => Promise<AgentProcess>)[] = [];
  const nth = <T>(list: T[], i: number, what: string): T => {
    const item = list[i];
    if (item === undefined) throw new Error(`no ${what} ${i} in the cluster lab`);
    return item;
  };
  const remove = async (apps: readonly string[]): Promise<string[]> => {
    for (const a of agents) {
      for (const app of apps) await cli(['--socket', a.socket, 'stop', app]).catch(() => undefined);
    }
    await Promise.all(agents.map((a) => a.stop()));
    await Promise.all(containerds.map((c) => c.stop()));
    const problems = await lab.remove();
    // Replicas' namespaces, should a stop above have failed.
    const prefixes = indexes.map((i) => netnsPrefix(nodeName(i)));
    for (const ns of await netnsNames()) {
      if (prefixes.some((p) => ns.startsWith(p))) await run('ip', ['netns', 'delete', ns]);
    }
    return problems;
  };
  try {
    containerds.push(...(await Promise.all(indexes.map(() => startContainerd()))));
    for (const i of indexes) {
      const ctd = nth(containerds, i, 'containerd');
      const labHost = nth(lab.hosts, i, 'lab host');
      const args = [
        ...(options.heartbeat ?? TEST_HEARTBEAT),
        '--mdns',
        'off',
        '--advertise',
        labHost.address,
        '--bridge',
        `${options.label.slice(0, 3)}${suffix}${i}`,
        '--subnet',
        `${options.subnet}.${2 * third + i}.0/24`,
      ];
      const netnsPath = nth(lab.hosts, i, 'lab host').netnsPath;
      const start = (dir?: string): Promise<AgentProcess> =>
        startAgent(ctd.socket, ctd.namespace, args, {
          netnsPath,
          nodeName: nodeName(i),
          ...(options.main !== undefined && { main: options.main }),
          ...(dir !== undefined && { dir }),
        });
      const first = await start();
      agents.push(first);
      starts.push(() => start(first.dir));
    }
  } catch (err) {
    await remove([]);
    throw err;
  }
  const budgie = (i: number, ...argv: string[]): Promise<CliRun> =>
    cli([...argv, '--socket', nth(agents, i, 'agent').socket]);
  const allAlive = async (i: number, count: number): Promise<void> => {
    for (let tries = 0; tries < 100; tries++) {
      const r = await budgie(i, 'cluster', 'nodes', '--format', 'json');
      const rows = JSON.parse(r.stdout || '[]') as { state: string }[];
      if (rows.length === count && rows.every((row) => row.state === 'alive')) return;
      await new Promise((done) => setTimeout(done, 100));
    }
    throw new Error(`node ${i} did not see ${count} members alive`);
  };
  return {
    lab,
    nodeName,
    host: (i) => nth(lab.hosts, i, 'lab host'),
    agent: (i) => nth(agents, i, 'agent'),
    containerd: (i) => nth(containerds, i, 'containerd'),
    budgie,
    form: async () => {
      const init = await budgie(0, 'cluster', 'init');
      const token = /BGT1\.[a-z2-7.]+/.exec(init.stdout)?.[0];
      if (init.code !== 0 || token === undefined) {
        throw new Error(`cluster init failed: ${init.stderr}`);
      }
      const via = `${nth(lab.hosts, 0, 'lab host').address}:7447`;
      for (const i of indexes.slice(1)) {
        const joined = await budgie(i, 'cluster', 'join', token, '--peer', via);
        if (joined.code !== 0 || joined.stderr !== '') {
          throw new Error(`node ${i} could not join: ${joined.stderr}`);
        }
      }
      for (const i of indexes) await allAlive(i, indexes.length);
      return token;
    },
    restart: async (i, whileDown) => {
      await nth(agents, i, 'agent').crash();
      await whileDown?.();
      const again = await nth(starts, i, 'agent')();
      agents[i] = again;
      return again;
    },
    allAlive,
    remove,
  };
}
