import { missing, ok, warning, type CheckResult, type CheckTarget } from '../check';
import type { SystemProbes } from '../probes';
import { messageOf } from '../../errors';

/** Short: the check is interactive, and a local socket answers in milliseconds or not at all. */
export const CONTAINERD_TIMEOUT_MS = 2000;
export const CNI_PLUGINS = ['bridge', 'host-local', 'portmap', 'loopback'] as const;

export async function checkContainerd(
  probes: SystemProbes,
  target: CheckTarget,
): Promise<CheckResult> {
  const socket = target.containerdSocket;
  try {
    const version = await probes.containerdVersion(socket, CONTAINERD_TIMEOUT_MS);
    return ok('containerd', `${version} at ${socket}`);
  } catch (err) {
    const installed = await probes.findExecutable('containerd');
    const fix =
      installed === undefined
        ? 'apt-get install -y containerd'
        : `systemctl start containerd (or point --containerd at its socket)`;
    // containerd's client errors usually name the socket already; say it once.
    const reason = messageOf(err);
    const detail = reason.includes(socket) ? reason : `no answer at ${socket}: ${reason}`;
    return missing('containerd', detail, fix);
  }
}

export async function checkRunc(probes: SystemProbes): Promise<CheckResult> {
  const path = await probes.findExecutable('runc');
  if (path !== undefined) return ok('runc', path);
  return missing('runc', 'runc not found on PATH', 'apt-get install -y runc');
}

/** The first plugin dir holding all of them wins, as the agent searches them in order. */
export async function checkCniPlugins(probes: SystemProbes): Promise<CheckResult> {
  let fewest: { dir: string; absent: string[] } | undefined;
  for (const dir of probes.cniDirs) {
    const absent: string[] = [];
    for (const plugin of CNI_PLUGINS) {
      if (!(await probes.exists(`${dir}/${plugin}`))) absent.push(plugin);
    }
    if (absent.length === 0) return ok('cni-plugins', `${CNI_PLUGINS.join(', ')} in ${dir}`);
    if (fewest === undefined || absent.length < fewest.absent.length) fewest = { dir, absent };
  }
  const detail =
    fewest === undefined || fewest.absent.length === CNI_PLUGINS.length
      ? `no CNI plugins in ${probes.cniDirs.join(' or ')}`
      : `${fewest.absent.join(', ')} missing from ${fewest.dir}`;
  return missing('cni-plugins', detail, 'apt-get install -y containernetworking-plugins');
}

export async function checkCgroups(probes: SystemProbes): Promise<CheckResult> {
  if (await probes.exists('/sys/fs/cgroup/cgroup.controllers')) {
    return ok('cgroups', 'v2 (unified) at /sys/fs/cgroup');
  }
  const mounts = (await probes.readText('/proc/mounts')) ?? '';
  if (mounts.split('\n').some((line) => line.split(' ')[2] === 'cgroup')) {
    return ok('cgroups', 'v1 at /sys/fs/cgroup');
  }
  return missing(
    'cgroups',
    'no cgroup file system mounted',
    'mount -t cgroup2 none /sys/fs/cgroup (or boot with systemd, which mounts it)',
  );
}

/** The CNI bridge plugin's outbound NAT and portmap run the iptables command (nft-backed or not). */
export async function checkFirewall(probes: SystemProbes): Promise<CheckResult> {
  const iptables = await probes.findExecutable('iptables');
  if (iptables !== undefined) return ok('firewall', `iptables at ${iptables}`);
  const nft = await probes.findExecutable('nft');
  const fix = 'apt-get install -y iptables';
  if (nft !== undefined) {
    return warning('firewall', `nft at ${nft} but no iptables: the CNI plugins call iptables`, fix);
  }
  return missing('firewall', 'neither iptables nor nft found', fix);
}

/** Without overlayfs the agent falls back to containerd's native snapshotter: slower, works. */
export async function checkOverlayfs(probes: SystemProbes): Promise<CheckResult> {
  const filesystems = (await probes.readText('/proc/filesystems')) ?? '';
  if (/\toverlay$/m.test(filesystems)) return ok('overlayfs', 'in /proc/filesystems');
  const modules = `/lib/modules/${probes.kernelRelease}`;
  for (const file of ['overlay.ko', 'overlay.ko.xz', 'overlay.ko.zst', 'overlay.ko.gz']) {
    if (await probes.exists(`${modules}/kernel/fs/overlayfs/${file}`)) {
      return ok('overlayfs', `loadable module (${modules}/kernel/fs/overlayfs)`);
    }
  }
  return warning(
    'overlayfs',
    'not in the kernel and no module: images are unpacked with the slower native snapshotter',
    'modprobe overlay (or apt-get install -y linux-image-$(dpkg --print-architecture))',
  );
}
