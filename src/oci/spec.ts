import { InvalidInputError } from '../errors';
import type { ImageRunConfig, OciMount, OciSpec } from './spec-types';

/**
 * Builds the OCI runtime spec of one replica. Defaults are Docker's and containerd's: the same
 * capabilities, masked and read-only paths, and /proc /dev /sys mounts, so that images behave as
 * they do under `docker run`.
 */
export interface SpecInput {
  /** Container ID; also names the cgroup. */
  id: string;
  /** containerd namespace; the cgroup lives under it, as containerd's own default does. */
  namespace: string;
  hostname: string;
  image: ImageRunConfig;
  /** .bun overrides (undefined keeps the image's value). */
  entrypoint?: string[];
  command?: string[];
  workdir?: string;
  environment: readonly { name: string; value: string }[];
  volumes: readonly { source: string; target: string; mode: 'rw' | 'ro' }[];
  /** A network namespace to join; absent means a new, unconnected one. */
  netnsPath?: string;
  /** Further bind mounts the runtime provides (/etc/hosts, /etc/resolv.conf). */
  extraMounts?: readonly OciMount[];
}

const DEFAULT_CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const MASKED_PATHS = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
];

const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const mount = (destination: string, type: string, source: string, options: string[]): OciMount => ({
  destination,
  type,
  source,
  options,
});

const DEFAULT_MOUNTS: readonly OciMount[] = [
  mount('/proc', 'proc', 'proc', ['nosuid', 'noexec', 'nodev']),
  mount('/dev', 'tmpfs', 'tmpfs', ['nosuid', 'strictatime', 'mode=755', 'size=65536k']),
  mount('/dev/pts', 'devpts', 'devpts', [
    'nosuid',
    'noexec',
    'newinstance',
    'ptmxmode=0666',
    'mode=0620',
    'gid=5',
  ]),
  mount('/dev/shm', 'tmpfs', 'shm', ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k']),
  mount('/dev/mqueue', 'mqueue', 'mqueue', ['nosuid', 'noexec', 'nodev']),
  mount('/sys', 'sysfs', 'sysfs', ['nosuid', 'noexec', 'nodev', 'ro']),
  mount('/sys/fs/cgroup', 'cgroup', 'cgroup', ['nosuid', 'noexec', 'nodev', 'relatime', 'ro']),
];

export function buildSpec(input: SpecInput): OciSpec {
  const args = processArgs(input);
  const networkNs =
    input.netnsPath === undefined
      ? { type: 'network' }
      : { type: 'network', path: input.netnsPath };
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: parseUser(input.image.user),
      args,
      env: mergeEnv(input.image.env ?? [], input.environment),
      cwd: input.workdir ?? nonEmpty(input.image.workingDir) ?? '/',
      capabilities: { bounding: DEFAULT_CAPS, effective: DEFAULT_CAPS, permitted: DEFAULT_CAPS },
      // No rlimits: the container inherits containerd's (through the shim), as under Docker.
      // Raising one past the current hard limit needs CAP_SYS_RESOURCE, and runc refuses it
      // where the agent runs without (e.g. inside another container).
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: input.hostname,
    mounts: [
      ...DEFAULT_MOUNTS,
      ...(input.extraMounts ?? []),
      // nosuid and nodev: a setuid binary or a device node that lands in a volume (a member's
      // sync, a file the host had there) gives a container nothing it did not have.
      ...input.volumes.map((v) =>
        mount(v.target, 'bind', v.source, [
          'rbind',
          'rprivate',
          'nosuid',
          'nodev',
          v.mode === 'ro' ? 'ro' : 'rw',
        ]),
      ),
    ],
    linux: {
      cgroupsPath: `/${input.namespace}/${input.id}`,
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, networkNs],
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
      resources: { devices: [{ allow: false, access: 'rwm' }] },
    },
  };
}

/**
 * Docker's rule: an entrypoint given by the user drops the image's Cmd unless a command is given
 * too; otherwise entrypoint (user's or image's) followed by command (user's or image's).
 */
function processArgs(input: SpecInput): string[] {
  const entrypoint = input.entrypoint ?? input.image.entrypoint ?? [];
  const command = input.command ?? (input.entrypoint === undefined ? (input.image.cmd ?? []) : []);
  const args = [...entrypoint, ...command];
  if (args.length === 0) {
    throw new InvalidInputError(
      'the image has no Entrypoint or Cmd and the .bun gives no command: nothing to run',
    );
  }
  return args;
}

/** Image env, then .bun env; a later KEY replaces an earlier one in place. PATH always set. */
export function mergeEnv(
  imageEnv: readonly string[],
  overrides: readonly { name: string; value: string }[],
): string[] {
  const merged = new Map<string, string>();
  for (const entry of imageEnv) {
    const eq = entry.indexOf('=');
    if (eq > 0) merged.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  for (const { name, value } of overrides) merged.set(name, value);
  if (!merged.has('PATH')) merged.set('PATH', DEFAULT_PATH);
  return [...merged].map(([k, v]) => `${k}=${v}`);
}

/**
 * Numeric users only ("1000", "1000:1000"): a user name would need a lookup in the image's
 * /etc/passwd, which Budgie does not do yet, so it is refused with a clear error.
 */
export function parseUser(user: string | undefined): { uid: number; gid: number } {
  if (user === undefined || user === '') return { uid: 0, gid: 0 };
  const match = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!match) {
    throw new InvalidInputError(`image user "${user}": only numeric uid[:gid] users are supported`);
  }
  const uid = Number(match[1]);
  return { uid, gid: match[2] === undefined ? uid : Number(match[2]) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}
