import { constants } from 'node:fs';
import { access, readdir, readFile, statfs } from 'node:fs/promises';
import { connect } from 'node:net';
import { networkInterfaces, release } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import type { RuntimeProbe } from '../runtime/probe';
import { DEFAULT_PLUGIN_DIRS } from '../network/cni-network';
import { portState } from './port-owner';
import type { NetInterface, SocketState, SystemProbes } from './probes';

/** Root's PATH has these; a user's often does not, yet runc and iptables live there. */
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];
/** From linux/if.h. */
const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;
const IFF_MULTICAST = 0x1000;
const SOCKET_TIMEOUT_MS = 1000;

/**
 * The real machine, with `runtime` to ask the container runtime. Loaded only by `budgie nest
 * check`: the composition root (src/entry.ts) hands it containerd's probe.
 */
export function hostProbes(runtime: RuntimeProbe): SystemProbes {
  return {
    platform: process.platform,
    arch: process.arch,
    nodeVersion: process.versions.node,
    cniDirs: DEFAULT_PLUGIN_DIRS,
    kernelRelease: release(),
    osName,
    containerdVersion: (socket, timeoutMs) => runtime.version(socket, timeoutMs),
    findExecutable,
    exists,
    readText: (path) => readFile(path, 'utf8').catch(() => undefined),
    interfaces,
    socketAnswers,
    portState,
    freeBytes,
  };
}

async function osName(): Promise<string | undefined> {
  const text = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
  return match?.[1];
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function findExecutable(name: string): Promise<string | undefined> {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), ...SBIN_DIRS];
  for (const dir of dirs.filter((d) => d !== '')) {
    const path = join(dir, name);
    const found = await access(path, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (found) return path;
  }
  return undefined;
}

async function interfaces(): Promise<NetInterface[]> {
  const names = await readdir('/sys/class/net').catch((): string[] => []);
  if (names.length === 0) {
    // Not Linux (or no sysfs): no flags to read, so trust that addressed interfaces multicast.
    return Object.entries(networkInterfaces()).map(([name, addrs]) => {
      const loopback = (addrs ?? []).every((a) => a.internal);
      return { name, up: true, loopback, multicast: !loopback };
    });
  }
  const found: NetInterface[] = [];
  for (const name of names) {
    const text = await readFile(`/sys/class/net/${name}/flags`, 'utf8').catch(() => '0');
    const flags = Number.parseInt(text.trim(), 16);
    found.push({
      name,
      up: (flags & IFF_UP) !== 0,
      loopback: (flags & IFF_LOOPBACK) !== 0,
      multicast: (flags & IFF_MULTICAST) !== 0,
    });
  }
  return found;
}

function socketAnswers(path: string): Promise<SocketState> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    const done = (state: SocketState): void => {
      socket.destroy();
      resolve(state);
    };
    socket.setTimeout(SOCKET_TIMEOUT_MS, () => {
      done({ state: 'refused', reason: 'timed out' });
    });
    socket.once('connect', () => {
      done({ state: 'answers' });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') done({ state: 'absent' });
      else if (err.code === 'EACCES') done({ state: 'refused', reason: 'permission denied' });
      else if (err.code === 'ECONNREFUSED')
        done({ state: 'refused', reason: 'connection refused' });
      else done({ state: 'refused', reason: err.code ?? err.message });
    });
  });
}

/** The state dir may not exist yet (before the first agent start): measure its nearest parent. */
async function freeBytes(path: string): Promise<{ bytes: number; path: string } | undefined> {
  let at = path;
  for (;;) {
    try {
      const stats = await statfs(at);
      return { bytes: stats.bavail * stats.bsize, path: at };
    } catch {
      const parent = dirname(at);
      if (parent === at) return undefined;
      at = parent;
    }
  }
}
