import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ContainerdClient } from '../../src/containerd/client';

const run = promisify(execFile);
const CGROUP_ROOT = '/sys/fs/cgroup';

export interface PrivateContainerd {
  /** containerd's gRPC socket. */
  socket: string;
  /** A namespace no other test uses (runc's state under /run/containerd/runc is per namespace). */
  namespace: string;
  /** The temp dir holding root, state, sockets and config. */
  root: string;
  /** What containerd wrote to stderr so far, for failure messages. */
  output(): string;
  /** Removes its tasks and containers, stops containerd, unmounts and deletes everything. */
  stop(): Promise<void>;
  /**
   * Stops containerd with SIGTERM (shims and containers keep running, as in a package upgrade);
   * `start` brings it back on the same root, state and socket and waits until it answers.
   */
  restart(): Promise<{ start(): Promise<void> }>;
}

/**
 * Starts a containerd of our own (root, state and sockets in a fresh dir under /tmp; the CRI plugin
 * off) and waits until it answers. Needs root. Never touches any other containerd.
 */
export async function startContainerd(): Promise<PrivateContainerd> {
  // Short: unix socket paths must stay under 108 bytes, shim paths are derived from them.
  const dir = await mkdtemp('/tmp/bctd-');
  const socket = join(dir, 'containerd.sock');
  const namespace = `budgie-test-${randomBytes(4).toString('hex')}`;
  const config = join(dir, 'config.toml');
  await writeFile(config, configToml(dir, socket));
  let stderr = '';
  const launch = () => {
    const child = spawn(
      'containerd',
      [
        '--config',
        config,
        '--root',
        join(dir, 'root'),
        '--state',
        join(dir, 'state'),
        '--address',
        socket,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr.on('data', (chunk: Buffer) => {
      // Keep the tail only: containerd is chatty at startup and tests run long.
      stderr = (stderr + chunk.toString()).slice(-64 * 1024);
    });
    const exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        resolve();
      }),
    );
    return { child, exited };
  };
  let { child, exited } = launch();

  const client = ContainerdClient.connect({ socket, namespace, defaultTimeoutMs: 2000 });
  try {
    await waitForVersion(
      client,
      () => child.exitCode !== null,
      () => stderr,
    );
  } catch (err) {
    client.close();
    child.kill('SIGKILL');
    await exited;
    await cleanDir(dir);
    throw err;
  }

  const terminate = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const running = child;
    const timer = setTimeout(() => running.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const stop = async (): Promise<void> => {
    await removeWorkloads(client).catch(() => undefined);
    client.close();
    await killShims(socket);
    await killCgroup(namespace);
    await terminate();
    await rm(join('/run/containerd/runc', namespace), { recursive: true, force: true });
    await cleanDir(dir);
  };
  const restart = async (): Promise<{ start(): Promise<void> }> => {
    await terminate();
    return {
      start: async () => {
        ({ child, exited } = launch());
        const running = child;
        await waitForVersion(
          client,
          () => running.exitCode !== null,
          () => stderr,
        );
      },
    };
  };
  return { socket, namespace, root: dir, output: () => stderr, stop, restart };
}

function configToml(dir: string, socket: string): string {
  return [
    'version = 2',
    `root = "${join(dir, 'root')}"`,
    `state = "${join(dir, 'state')}"`,
    // CRI would take seconds to start and log a lot; Budgie does not use it.
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]',
    `  address = "${socket}"`,
    '[ttrpc]',
    `  address = "${socket}.ttrpc"`,
    '[debug]',
    '  level = "warn"',
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = "${join(dir, 'opt')}"`,
    '',
  ].join('\n');
}

async function waitForVersion(
  client: ContainerdClient,
  hasExited: () => boolean,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await client.version();
      return;
    } catch (err) {
      if (hasExited() || Date.now() > deadline) {
        throw new Error(`containerd did not come up: ${String(err)}\n${output()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Kills and deletes every task, then deletes every container, of the test's namespace. */
async function removeWorkloads(client: ContainerdClient): Promise<void> {
  const opts = { timeoutMs: 10_000 };
  for (const task of await client.tasks.list('', opts)) {
    await client.tasks.kill(task.id, 9, { all: true, ...opts }).catch(() => undefined);
    await client.tasks.wait(task.id, '', opts).catch(() => undefined);
    await client.tasks.delete(task.id, opts).catch(() => undefined);
  }
  for (const container of await client.containers.list([], opts)) {
    await client.containers.delete(container.id, opts).catch(() => undefined);
  }
}

/** Shims outlive containerd by design; ours are the ones started with our socket as -address. */
async function killShims(socket: string): Promise<void> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(join('/proc', entry, 'cmdline'), 'utf8').catch(() => '');
    const args = cmdline.split('\0');
    const at = args.indexOf('-address');
    if (args[0]?.includes('containerd-shim') === true && at >= 0 && args[at + 1] === socket) {
      try {
        process.kill(Number(entry), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

/**
 * Processes of containers whose shim was killed keep running; Budgie's specs put them in cgroup
 * `/<namespace>/<id>`, so kill what is left there and remove the (per-test) cgroups.
 */
async function killCgroup(namespace: string): Promise<void> {
  // cgroup v1 has one tree per controller; v2 one tree.
  const controllers = await readdir(CGROUP_ROOT).catch((): string[] => []);
  const bases = [CGROUP_ROOT, ...controllers.map((c) => join(CGROUP_ROOT, c))].map((tree) =>
    join(tree, namespace),
  );
  const groupsOf = async (base: string): Promise<string[]> => {
    const entries = await readdir(base, { withFileTypes: true }).catch(() => []);
    return entries.filter((entry) => entry.isDirectory()).map((entry) => join(base, entry.name));
  };
  for (const base of bases) {
    for (const group of await groupsOf(base)) {
      const procs = await readFile(join(group, 'cgroup.procs'), 'utf8').catch(() => '');
      for (const pid of procs.split('\n').filter((line) => line !== '')) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  for (const base of bases) {
    for (const group of await groupsOf(base)) await rmdir(group).catch(() => undefined);
    await rmdir(base).catch(() => undefined);
  }
}

/** Unmounts whatever is still mounted under `dir` (deepest first), then deletes it. */
async function cleanDir(dir: string): Promise<void> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const mounts = mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) {
    await run('umount', ['-l', point]).catch(() => undefined);
  }
  await rm(dir, { recursive: true, force: true });
}
