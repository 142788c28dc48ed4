import type { PortState, SocketState, SystemProbes } from '../../../src/nest/probes';

/**
 * A healthy Debian machine, in memory; tests override what they break. Files exist when they are
 * in `files` (contents) or `paths`; executables when in `executables`.
 */
export interface FakeMachine {
  platform: string;
  arch: string;
  nodeVersion: string;
  osName: string | undefined;
  /** containerd's version, or the reason it does not answer. */
  containerd: { version: string } | { error: string };
  executables: Record<string, string>;
  files: Record<string, string>;
  paths: string[];
  interfaces: { name: string; up: boolean; loopback: boolean; multicast: boolean }[];
  agentSocket: SocketState;
  port: PortState;
  freeBytes: number | undefined;
}

const CNI = ['bridge', 'host-local', 'portmap', 'loopback'].map((p) => `/usr/lib/cni/${p}`);

export function healthyMachine(): FakeMachine {
  return {
    platform: 'linux',
    arch: 'x64',
    nodeVersion: '20.11.1',
    osName: 'Debian GNU/Linux 12 (bookworm)',
    containerd: { version: '1.6.20~ds1' },
    executables: {
      containerd: '/usr/bin/containerd',
      runc: '/usr/sbin/runc',
      iptables: '/usr/sbin/iptables',
      nft: '/usr/sbin/nft',
    },
    files: { '/proc/filesystems': 'nodev\tcgroup2\n\text4\nnodev\toverlay\n' },
    paths: [...CNI, '/sys/fs/cgroup/cgroup.controllers'],
    interfaces: [
      { name: 'lo', up: true, loopback: true, multicast: false },
      { name: 'eth0', up: true, loopback: false, multicast: true },
    ],
    agentSocket: { state: 'answers' },
    port: { state: 'free' },
    freeBytes: 50 * 1024 ** 3,
  };
}

export function fakeProbes(machine: FakeMachine): SystemProbes & { timeouts: number[] } {
  const timeouts: number[] = [];
  return {
    timeouts,
    platform: machine.platform,
    arch: machine.arch,
    nodeVersion: machine.nodeVersion,
    cniDirs: ['/usr/lib/cni', '/opt/cni/bin'],
    kernelRelease: '6.1.0-test',
    osName: () => Promise.resolve(machine.osName),
    containerdVersion: (_socket, timeoutMs) => {
      timeouts.push(timeoutMs);
      const c = machine.containerd;
      return 'version' in c ? Promise.resolve(c.version) : Promise.reject(new Error(c.error));
    },
    findExecutable: (name) => Promise.resolve(machine.executables[name]),
    exists: (path) => Promise.resolve(path in machine.files || machine.paths.includes(path)),
    readText: (path) => Promise.resolve(machine.files[path]),
    interfaces: () => Promise.resolve(machine.interfaces),
    socketAnswers: () => Promise.resolve(machine.agentSocket),
    portState: () => Promise.resolve(machine.port),
    freeBytes: (path) =>
      Promise.resolve(
        machine.freeBytes === undefined ? undefined : { bytes: machine.freeBytes, path },
      ),
  };
}
