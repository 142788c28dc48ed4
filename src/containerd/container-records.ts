import type { ContainerInfo, ContainerState } from '../runtime/containers';
import { TaskStatus, type Container, type Process } from './api';
import { timestampMs } from './wellknown';

/**
 * Where a container's output goes, kept on its containerd record: the task is created at start,
 * possibly by a later agent process, and must write to the same file.
 */
export const LOG_PATH_LABEL = 'budgie.log-path';

/** Labels Budgie keeps for itself: callers get back exactly the labels they gave. */
const INTERNAL_LABELS = new Set([LOG_PATH_LABEL]);

/** A string as a containerd filter literal (Go-style quoted; JSON's escapes are a subset). */
export function filterLiteral(value: string): string {
  return JSON.stringify(value);
}

/** One containerd filter matching containers that carry every label (none: match all). */
export function labelFilters(labels: Record<string, string> = {}): string[] {
  const terms = Object.entries(labels).map(
    ([key, value]) => `labels.${filterLiteral(key)}==${filterLiteral(value)}`,
  );
  // Terms joined by commas must all match; separate filters would be alternatives.
  return terms.length === 0 ? [] : [terms.join(',')];
}

export function containerState(task: Process | undefined): ContainerState {
  // A container without a task was created (or its task deleted) and never runs until started.
  if (task === undefined) return 'created';
  switch (task.status) {
    case TaskStatus.CREATED:
      return 'created';
    case TaskStatus.RUNNING:
      return 'running';
    case TaskStatus.PAUSED:
    case TaskStatus.PAUSING:
      return 'paused';
    case TaskStatus.STOPPED:
      return 'stopped';
    default:
      return 'unknown';
  }
}

/** A containerd container record and its task (if any) in Budgie's terms. */
export function containerInfo(container: Container, task: Process | undefined): ContainerInfo {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(container.labels)) {
    if (!INTERNAL_LABELS.has(key)) labels[key] = value;
  }
  const state = containerState(task);
  const logPath = container.labels[LOG_PATH_LABEL];
  return {
    id: container.id,
    image: container.image,
    labels,
    state,
    ...(task !== undefined && task.pid > 0 && state !== 'stopped' ? { pid: task.pid } : {}),
    ...(task !== undefined && state === 'stopped'
      ? { exitCode: task.exitStatus, exitedAtMs: timestampMs(task.exitedAt) }
      : {}),
    createdAtMs: timestampMs(container.createdAt),
    ...(logPath === undefined ? {} : { logPath }),
  };
}

/**
 * The part of a failed task create/start that says why, without containerd's and runc's layers
 * of prefixes ("failed to create shim task: OCI runtime create failed: runc create failed: unable
 * to start container process: exec: ...: unknown").
 */
export function startFailureReason(message: string): string {
  const markers = ['unable to start container process: ', 'OCI runtime create failed: '];
  let reason = message;
  for (const marker of markers) {
    const at = reason.lastIndexOf(marker);
    if (at >= 0) {
      reason = reason.slice(at + marker.length);
      break;
    }
  }
  return reason.replace(/: unknown$/, '');
}
