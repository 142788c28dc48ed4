import type { CheckResult, CheckTarget } from './check';
import { checkNode, checkOs } from './checks/platform';
import {
  checkCgroups,
  checkCniPlugins,
  checkContainerd,
  checkFirewall,
  checkOverlayfs,
  checkRunc,
} from './checks/runtime';
import { checkAgentSocket, checkDisk, checkMulticast, checkPeerPort } from './checks/host';
import type { SystemProbes } from './probes';

type Check = (probes: SystemProbes, target: CheckTarget) => CheckResult | Promise<CheckResult>;

/** In output order: the platform, what the agent runs on, then this host's network and disk. */
const CHECKS: readonly Check[] = [
  checkOs,
  checkNode,
  checkContainerd,
  checkRunc,
  checkCniPlugins,
  checkCgroups,
  checkFirewall,
  checkOverlayfs,
  checkMulticast,
  checkAgentSocket,
  checkPeerPort,
  checkDisk,
];

/** Runs every check concurrently (each is independent; containerd's timeout dominates). */
export function runChecks(probes: SystemProbes, target: CheckTarget): Promise<CheckResult[]> {
  return Promise.all(CHECKS.map(async (check) => check(probes, target)));
}
