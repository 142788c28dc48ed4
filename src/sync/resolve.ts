import { posix } from 'node:path';
import type { SyncRecord } from './records';
import { compareVersions, mergeVersions } from './version';

/**
 * What a node does with a member's record of a path, given its own. Every node decides alike
 * from the same two records, so that both sides of a conflict keep the same two versions under
 * the same names, and nothing is lost:
 * - the remote record is older or the same: nothing to do;
 * - it is newer: make it so here (`apply`; only metadata when the content is the same);
 * - concurrent with the same content: adopt the merged version, nothing moves;
 * - concurrent, one side deleted: the edit wins over the delete;
 * - concurrent edits: the newer mtime wins (ties: the greater node id); the loser is kept
 *   beside it as NAME.sync-conflict-YYYYMMDD-HHMMSS-NODE.EXT, on both nodes.
 */
export type Decision =
  | { action: 'skip' }
  | { action: 'adopt'; record: SyncRecord }
  | { action: 'apply'; record: SyncRecord }
  /** Move the local version to `conflictPath`, then apply `record`. */
  | { action: 'apply-keep-local'; record: SyncRecord; conflictPath: string }
  /** Keep the local version (as `record`), and write the remote one at `conflictPath`. */
  | { action: 'keep-fetch-remote'; record: SyncRecord; remote: SyncRecord; conflictPath: string };

export function decide(local: SyncRecord | undefined, remote: SyncRecord): Decision {
  if (local === undefined) {
    return remote.deleted
      ? { action: 'adopt', record: remote }
      : { action: 'apply', record: remote };
  }
  const order = compareVersions(remote.version, local.version);
  if (order === 'equal' || order === 'older') return { action: 'skip' };
  if (order === 'newer') {
    return sameState(local, remote)
      ? { action: 'adopt', record: remote }
      : { action: 'apply', record: remote };
  }
  const version = mergeVersions(local.version, remote.version);
  if (sameContent(local, remote)) {
    return { action: 'adopt', record: { ...winner(local, remote), version } };
  }
  if (local.deleted) return { action: 'apply', record: { ...remote, version } };
  if (remote.deleted) return { action: 'adopt', record: { ...local, version } };
  if (winner(local, remote) === remote) {
    return {
      action: 'apply-keep-local',
      record: { ...remote, version },
      conflictPath: conflictPath(local),
    };
  }
  return {
    action: 'keep-fetch-remote',
    record: { ...local, version },
    remote,
    conflictPath: conflictPath(remote),
  };
}

/**
 * The same thing on disk: kind, content and metadata. Only files' mtimes are synced: a
 * directory's changes with every child, and a symlink's mode and mtime mean nothing.
 */
export function sameState(a: SyncRecord, b: SyncRecord): boolean {
  if (!sameContent(a, b)) return false;
  if (a.deleted || a.kind === 'symlink') return true;
  return a.mode === b.mode && (a.kind === 'dir' || a.mtimeMs === b.mtimeMs);
}

function sameContent(a: SyncRecord, b: SyncRecord): boolean {
  if (a.deleted || b.deleted) return a.deleted && b.deleted;
  return a.kind === b.kind && a.hash === b.hash && a.linkTarget === b.linkTarget;
}

function winner(a: SyncRecord, b: SyncRecord): SyncRecord {
  if (a.mtimeMs !== b.mtimeMs) return a.mtimeMs > b.mtimeMs ? a : b;
  return a.modifiedBy >= b.modifiedBy ? a : b;
}

const CONFLICT_MARK = '.sync-conflict-';

/** Whether a path is a conflict copy (which `budgie sync conflicts` lists). */
export function isConflictCopy(path: string): boolean {
  return posix.basename(path).includes(CONFLICT_MARK);
}

/**
 * Where the losing version of a conflict is kept, named from that version alone (its mtime and
 * author), so that both nodes choose the same name: `notes.sync-conflict-20261205-101500-ab12cd3.txt`.
 */
export function conflictPath(loser: SyncRecord): string {
  const dir = posix.dirname(loser.path);
  const base = posix.basename(loser.path);
  const dot = base.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, ''];
  const t = new Date(loser.mtimeMs).toISOString();
  const stamp = `${t.slice(0, 4)}${t.slice(5, 7)}${t.slice(8, 10)}-${t.slice(11, 13)}${t.slice(14, 16)}${t.slice(17, 19)}`;
  const name = `${stem}${CONFLICT_MARK}${stamp}-${loser.modifiedBy.slice(0, 7)}${ext}`;
  return dir === '.' ? name : `${dir}/${name}`;
}
