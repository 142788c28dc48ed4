import { missing, ok, warning, type CheckResult } from '../check';
import type { SystemProbes } from '../probes';

const MIN_NODE_MAJOR = 20;
const ARCHES = ['x64', 'arm64'];

/** The agent drives containerd, CNI and cgroups: Linux only. The CLI alone runs anywhere. */
export async function checkOs(probes: SystemProbes): Promise<CheckResult> {
  const name = (await probes.osName()) ?? probes.platform;
  const what = `${name}, ${probes.arch}`;
  if (probes.platform !== 'linux') {
    return missing(
      'os',
      `${what}: the agent needs Linux (containerd, CNI, cgroups)`,
      'run the agent on a Linux machine (Debian 12 is tested)',
    );
  }
  if (!ARCHES.includes(probes.arch)) {
    return warning(
      'os',
      `${what}: untested architecture`,
      'Budgie is tested on x64 and arm64; expect surprises',
    );
  }
  return ok('os', what);
}

export function checkNode(probes: SystemProbes): CheckResult {
  const major = Number(probes.nodeVersion.split('.')[0]);
  const what = `Node.js ${probes.nodeVersion}`;
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) return ok('node', what);
  return missing(
    'node',
    `${what}: Budgie needs ${MIN_NODE_MAJOR} or later`,
    // Debian 12's own nodejs package is 18; NodeSource's repository has current releases.
    `curl -fsSL https://deb.nodesource.com/setup_${MIN_NODE_MAJOR}.x | bash - && apt-get install -y nodejs`,
  );
}
