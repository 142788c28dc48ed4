import { missing, ok, warning, type CheckResult, type CheckTarget } from '../check';
import type { SystemProbes } from '../probes';

/** Below this the agent still starts, but a few images and logs will fill the disk. */
const LOW_DISK_BYTES = 2 * 1024 ** 3;
/** Below this pulling any image is likely to fail. */
const NO_DISK_BYTES = 200 * 1024 ** 2;

/** mDNS discovery needs one; without it members are given with --peer, so a warning only. */
export async function checkMulticast(probes: SystemProbes): Promise<CheckResult> {
  const usable = (await probes.interfaces()).filter((i) => i.up && !i.loopback && i.multicast);
  if (usable.length > 0) return ok('multicast', usable.map((i) => i.name).join(', '));
  return warning(
    'multicast',
    'no multicast-capable interface is up: mDNS discovery will find no one',
    'bring a LAN interface up, or give members with --peer HOST:PORT',
  );
}

/** Not needed to run an agent (it creates the socket); needed by every other command. */
export async function checkAgentSocket(
  probes: SystemProbes,
  target: CheckTarget,
): Promise<CheckResult> {
  const socket = target.agentSocket;
  const found = await probes.socketAnswers(socket);
  if (found.state === 'answers') return ok('agent-socket', `an agent answers at ${socket}`);
  const why = found.state === 'absent' ? 'no socket' : found.reason;
  return warning(
    'agent-socket',
    `no agent at ${socket} (${why})`,
    'systemctl start budgie-agent (or run budgie agent as root)',
  );
}

export async function checkPeerPort(
  probes: SystemProbes,
  target: CheckTarget,
): Promise<CheckResult> {
  const port = target.peerPort;
  const found = await probes.portState(port);
  if (found.state === 'free') return ok('peer-port', `${port}/tcp free`);
  const owner = found.owner ?? 'another program';
  if (found.byBudgie) return ok('peer-port', `${port}/tcp in use by budgie (${owner})`);
  return warning(
    'peer-port',
    `${port}/tcp in use by ${owner}: the peer API cannot listen`,
    'stop that program, or set listen: HOST:PORT in /etc/budgie/config.yaml',
  );
}

export async function checkDisk(probes: SystemProbes, target: CheckTarget): Promise<CheckResult> {
  const free = await probes.freeBytes(target.stateDir);
  if (free === undefined) {
    return warning(
      'disk',
      `cannot read free space for ${target.stateDir}`,
      'df -h ' + target.stateDir,
    );
  }
  const where = free.path === target.stateDir ? free.path : `${free.path} (for ${target.stateDir})`;
  const detail = `${formatGiB(free.bytes)} free in ${where}`;
  const fix = `free space on ${free.path}, or set state_dir in /etc/budgie/config.yaml`;
  if (free.bytes < NO_DISK_BYTES) return missing('disk', detail, fix);
  if (free.bytes < LOW_DISK_BYTES) return warning('disk', detail, fix);
  return ok('disk', detail);
}

function formatGiB(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}
