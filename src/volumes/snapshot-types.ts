/** What a volume snapshot holds: entries (parents first) and, after a file's entry, its bytes. */
export type VolumeEntryKind = 'file' | 'dir' | 'symlink';

export interface VolumeEntry {
  /** Relative to the volume's root, '/'-separated; checked by the writer before use. */
  path: string;
  kind: VolumeEntryKind;
  /** Permission bits (07777). */
  mode: number;
  mtimeMs: number;
  /** A file's length in bytes; 0 otherwise. */
  size: number;
  /** A symlink's target, relative and inside the volume; '' otherwise. */
  linkTarget: string;
}

export type SnapshotItem = { entry: VolumeEntry } | { data: Buffer };
