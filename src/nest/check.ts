/** The outcome of one system check, as `budgie nest check` prints it (and `--json` emits it). */
export type CheckStatus = 'ok' | 'warning' | 'missing';

export interface CheckResult {
  /** Stable identifier: `containerd`, `cni-plugins`, ... (scripts match on it). */
  check: string;
  status: CheckStatus;
  /** What was found, in one line. */
  detail: string;
  /** The command or step that fixes it; null when nothing needs fixing. */
  fix: string | null;
}

/** What the checks are about: the agent's resolved settings that a check depends on. */
export interface CheckTarget {
  containerdSocket: string;
  agentSocket: string;
  stateDir: string;
  /** The peer API's `--listen` port. */
  peerPort: number;
}

export function ok(check: string, detail: string): CheckResult {
  return { check, status: 'ok', detail, fix: null };
}

export function warning(check: string, detail: string, fix: string): CheckResult {
  return { check, status: 'warning', detail, fix };
}

export function missing(check: string, detail: string, fix: string): CheckResult {
  return { check, status: 'missing', detail, fix };
}

/** Counts per status, for the summary line and the exit status. */
export function summarize(results: readonly CheckResult[]): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { ok: 0, warning: 0, missing: 0 };
  for (const r of results) counts[r.status] += 1;
  return counts;
}
