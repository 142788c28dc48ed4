import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AgentClient } from '../../src/api/client';

const MAIN = resolve(__dirname, '..', '..', 'dist', 'main.js');

export interface AgentProcess {
  socket: string;
  stateDir: string;
  logDir: string;
  client: AgentClient;
  process: ChildProcess;
  /** Everything the agent wrote to stderr so far. */
  output(): string;
  /** The temp dir holding socket, state and logs; pass it to a later startAgent to reuse them. */
  dir: string;
  /** SIGTERM and wait for the exit; returns the exit code. Removes the dir. */
  stop(): Promise<number | null>;
  /** SIGKILL (a crash) and wait for the exit; keeps the dir. */
  crash(): Promise<void>;
}

/**
 * Starts a real `budgie agent` process (the built dist/main.js) against the given containerd, in
 * its own temp dirs, and waits until its API answers. Run `npm run build` first.
 */
export async function startAgent(
  containerdSocket: string,
  namespace: string,
  extraArgs: string[] = [],
  options: {
    dir?: string;
    /** The built CLI to run; default this repo's dist/main.js (benches compiled elsewhere pass it). */
    main?: string;
    /** Runs the agent inside this network namespace (/var/run/netns/NAME), through nsenter. */
    netnsPath?: string;
    /** The node name; default `test-<namespace>`. */
    nodeName?: string;
  } = {},
): Promise<AgentProcess> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'budgie-agent-')));
  const socket = join(dir, 'budgie.sock');
  const stateDir = join(dir, 'state');
  const logDir = join(dir, 'log');
  // Node's own flags for agents, e.g. BENCH_AGENT_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/p"
  // to profile them in a benchmark (NODE_OPTIONS refuses --cpu-prof).
  const nodeArgs = (process.env.BENCH_AGENT_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const argv = [
    ...nodeArgs,
    options.main ?? MAIN,
    'agent',
    '--containerd',
    containerdSocket,
    '--namespace',
    namespace,
    '--socket',
    socket,
    '--state-dir',
    stateDir,
    '--log-dir',
    logDir,
    '--node-name',
    options.nodeName ?? `test-${namespace}`,
    '--config',
    '/dev/null',
    ...extraArgs,
  ];
  // With a namespace, nsenter execs node in place: the child's pid is the agent's own.
  const child =
    options.netnsPath === undefined
      ? spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn('nsenter', [`--net=${options.netnsPath}`, process.execPath, ...argv], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', done));
  const client = new AgentClient(socket);
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await client.info();
      break;
    } catch (err) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`agent did not come up: ${String(err)}\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    socket,
    stateDir,
    logDir,
    client,
    process: child,
    output: () => stderr,
    dir,
    crash: async () => {
      client.close();
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      client.close();
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      await rm(dir, { recursive: true, force: true });
      return code;
    },
  };
}
