import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { dirname } from 'node:path';
import { hasCode, writeFileAtomic } from '../fs';
import type { IndexEntry, SyncRecord } from './records';

/** What this node knows of a member's feed of one volume. */
export interface PeerCursor {
  /** The member's index epoch that `since` counts in. */
  epoch: string;
  /** The last of its sequence numbers applied here. */
  since: number;
  /** Its highest sequence number, as it last said. */
  sequence: number;
  /** When this node last caught up with it (ms since the epoch), 0 never. */
  syncedAtMs: number;
}

interface IndexFile {
  format: 1;
  epoch: string;
  sequence: number;
  entries: IndexEntry[];
  peers: Record<string, PeerCursor>;
}

/**
 * One volume's index on this node: every path with its record and local stamp, its own
 * sequence (the feed members pull), and the cursors of the members' feeds. Kept in a Map in
 * sequence order (an update moves the path to the end), so that the feed is read in order
 * without sorting. Persisted as one JSON file written atomically; a missing or unreadable file
 * starts a new epoch, and a rescan rebuilds the records (members then find the same content
 * and merge versions without moving data).
 */
export class VolumeIndex {
  private readonly entries = new Map<string, IndexEntry>();
  readonly peers = new Map<string, PeerCursor>();
  /** Live files by content hash: where a rename's or a copy's bytes already are here. */
  private readonly byHash = new Map<string, Set<string>>();
  private listeners = new Set<() => void>();

  private constructor(
    readonly epoch: string,
    private seq: number,
  ) {}

  static fresh(): VolumeIndex {
    return new VolumeIndex(randomBytes(8).toString('hex'), 0);
  }

  /** The index stored at `file`, or a fresh one (with why) when there is none or it is unreadable. */
  static async load(file: string): Promise<{ index: VolumeIndex; problem?: string }> {
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (err) {
      if (hasCode(err, 'ENOENT')) return { index: VolumeIndex.fresh() };
      throw err;
    }
    try {
      // Our own file, but a crash or a disk can leave anything in it.
      const data = JSON.parse(text) as Partial<IndexFile> | null;
      if (
        data?.format !== 1 ||
        typeof data.epoch !== 'string' ||
        typeof data.sequence !== 'number' ||
        !Array.isArray(data.entries) ||
        typeof data.peers !== 'object'
      ) {
        throw new Error('not an index');
      }
      const index = new VolumeIndex(data.epoch, data.sequence);
      for (const entry of [...data.entries].sort((a, b) => a.record.sequence - b.record.sequence)) {
        index.entries.set(entry.record.path, entry);
        index.hashed(undefined, entry.record);
      }
      for (const [node, cursor] of Object.entries(data.peers)) index.peers.set(node, cursor);
      return { index };
    } catch (err) {
      return { index: VolumeIndex.fresh(), problem: (err as Error).message };
    }
  }

  async save(file: string): Promise<void> {
    await fsp.mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const data: IndexFile = {
      format: 1,
      epoch: this.epoch,
      sequence: this.seq,
      entries: [...this.entries.values()],
      peers: Object.fromEntries(this.peers),
    };
    await writeFileAtomic(fsp, file, JSON.stringify(data), 0o600);
  }

  get sequence(): number {
    return this.seq;
  }

  get(path: string): IndexEntry | undefined {
    return this.entries.get(path);
  }

  values(): IterableIterator<IndexEntry> {
    return this.entries.values();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Records a path's new state under the next sequence number; members hear of it. */
  put(record: Omit<SyncRecord, 'sequence'>, stamp: IndexEntry['stamp']): SyncRecord {
    const full: SyncRecord = { ...record, sequence: ++this.seq };
    this.hashed(this.entries.get(record.path)?.record, full);
    this.entries.delete(record.path);
    this.entries.set(record.path, stamp === undefined ? { record: full } : { record: full, stamp });
    for (const listener of this.listeners) listener();
    return full;
  }

  /** Paths of live files with this content hash. */
  withHash(hash: string): readonly string[] {
    return [...(this.byHash.get(hash) ?? [])];
  }

  private hashed(before: SyncRecord | undefined, after: SyncRecord): void {
    if (before !== undefined && before.kind === 'file' && !before.deleted) {
      const paths = this.byHash.get(before.hash);
      paths?.delete(before.path);
      if (paths?.size === 0) this.byHash.delete(before.hash);
    }
    if (after.kind === 'file' && !after.deleted) {
      let paths = this.byHash.get(after.hash);
      if (paths === undefined) this.byHash.set(after.hash, (paths = new Set()));
      paths.add(after.path);
    }
  }

  /** Updates only what this node saw on disk: not a change, members are not told. */
  restamp(path: string, stamp: IndexEntry['stamp']): void {
    const entry = this.entries.get(path);
    if (entry === undefined) return;
    if (stamp === undefined) delete entry.stamp;
    else entry.stamp = stamp;
  }

  /** Records with a sequence above `since`, in order, at most `limit`; `more` if others follow. */
  changesSince(since: number, limit: number): { records: SyncRecord[]; more: boolean } {
    const records: SyncRecord[] = [];
    for (const { record } of this.entries.values()) {
      if (record.sequence <= since) continue;
      if (records.length === limit) return { records, more: true };
      records.push(record);
    }
    return { records, more: false };
  }

  /** Resolves when the sequence passes `since`, after `ms`, or on abort, whichever is first. */
  waitPast(since: number, ms: number, signal: AbortSignal): Promise<void> {
    if (this.seq > since || ms <= 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const check = (): void => {
        if (this.seq > since) done();
      };
      const timer = setTimeout(done, ms);
      this.listeners.add(check);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
