/** What a node's index says of one path of a volume; the same on every node and on the wire. */
export type SyncKind = 'file' | 'dir' | 'symlink';

/** Per-node change counters: node id → the number of changes that node made to the path. */
export type Version = Readonly<Record<string, number>>;

export interface SyncRecord {
  /** Relative to the volume's root, '/'-separated, checked wherever it comes from a peer. */
  path: string;
  kind: SyncKind;
  /** Permission bits, setuid and setgid masked. */
  mode: number;
  /** Whole milliseconds, as every side can set them. */
  mtimeMs: number;
  /** A file's length; 0 otherwise. */
  size: number;
  /** A symlink's target; '' otherwise. */
  linkTarget: string;
  /** SHA-256 of a file's content (hex); '' otherwise. */
  hash: string;
  /** A tombstone: the path was deleted in this version. */
  deleted: boolean;
  version: Version;
  /** The node that made this version (names conflict copies, breaks ties). */
  modifiedBy: string;
  /** The holding node's sequence number of this record: its changes feed, in order. */
  sequence: number;
}

/**
 * What this node saw on disk when it last recorded a path: a later scan that sees the same
 * skips the file without reading it, and an apply refuses to replace a file that differs (a
 * change not scanned yet, which must not be lost).
 */
export interface LocalStamp {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  mode: number;
  /**
   * Read within a second of its mtime: a write in the same tick of the file clock leaves every
   * field of the stamp as it is, so the next scan reads the content again rather than trust it.
   */
  racy?: boolean;
}

export interface IndexEntry {
  record: SyncRecord;
  /** Absent for a tombstone, or for a record adopted before its path existed here. */
  stamp?: LocalStamp;
}

/** Only the permission bits and the sticky bit travel: setuid and setgid never do. */
export const SYNC_MODE_MASK = 0o1777;
