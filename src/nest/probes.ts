/**
 * What the system checks need to know about the machine, behind one interface so that the check
 * logic is tested with fakes and only host-probes.ts touches the real system.
 */
export interface SystemProbes {
  /** `process.platform` and `process.arch`. */
  platform: string;
  arch: string;
  /** `process.versions.node`, e.g. `20.11.1`. */
  nodeVersion: string;
  /** Where the agent looks for CNI plugins, in order. */
  cniDirs: readonly string[];
  /** The distribution's PRETTY_NAME from /etc/os-release, when there is one. */
  osName(): Promise<string | undefined>;
  /** containerd's version over its gRPC API; rejects with a one-line reason. */
  containerdVersion(socket: string, timeoutMs: number): Promise<string>;
  /** The full path of an executable on PATH (or the sbin dirs root has), if any. */
  findExecutable(name: string): Promise<string | undefined>;
  exists(path: string): Promise<boolean>;
  /** A text file's contents, or undefined when it cannot be read. */
  readText(path: string): Promise<string | undefined>;
  /** `uname -r`: which kernel modules directory applies. */
  kernelRelease: string;
  interfaces(): Promise<NetInterface[]>;
  /** Whether something accepts connections on a unix socket. */
  socketAnswers(path: string): Promise<SocketState>;
  /** Whether a TCP port can be bound, and who holds it when it cannot. */
  portState(port: number): Promise<PortState>;
  /** Free bytes for unprivileged use on the file system holding `path` (or its nearest parent). */
  freeBytes(path: string): Promise<{ bytes: number; path: string } | undefined>;
}

export interface NetInterface {
  name: string;
  up: boolean;
  loopback: boolean;
  multicast: boolean;
}

export type SocketState =
  { state: 'answers' } | { state: 'absent' } | { state: 'refused'; reason: string };

export type PortState =
  { state: 'free' } | { state: 'in-use'; owner: string | undefined; byBudgie: boolean };
