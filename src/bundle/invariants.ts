import { formatDuration } from './duration';
import { formatPath, type Issue } from './issue';
import type { App } from './types';

/**
 * Rules that span several fields of a normalised App. They hold for every App, whoever made it:
 * the CLI checks them on .bun files, the agent on what it receives.
 */
export function appInvariants(app: App): Issue[] {
  const issues: Issue[] = [];
  const problem = (path: Issue['path'], message: string): void => {
    issues.push({ path, message, at: 'value' });
  };
  if (app.replicas.max < app.replicas.min) {
    problem(
      ['replicas', 'max'],
      `must be at least min (${app.replicas.min}), got ${app.replicas.max}`,
    );
  }
  const published = new Map<string, number>();
  app.ports.forEach((p, i) => {
    const key = `${p.hostPort}/${p.protocol}`;
    const first = published.get(key);
    if (first === undefined) published.set(key, i);
    else
      problem(
        ['ports', i, 'hostPort'],
        `host port ${key} is already published by ${formatPath(['ports', first])}`,
      );
  });
  const mounted = new Map<string, number>();
  app.volumes.forEach((v, i) => {
    const first = mounted.get(v.target);
    if (first === undefined) mounted.set(v.target, i);
    else
      problem(
        ['volumes', i, 'target'],
        `${v.target} is already mounted by ${formatPath(['volumes', first])}`,
      );
  });
  const check = app.healthcheck;
  // A try that may outlast the gap to the next one would overlap it; that is never what was meant.
  if (check !== undefined && check.timeoutMs > check.intervalMs) {
    problem(
      ['healthcheck', 'timeoutMs'],
      `must not exceed interval (${formatDuration(check.intervalMs)}), got ${formatDuration(check.timeoutMs)}`,
    );
  }
  return issues;
}
