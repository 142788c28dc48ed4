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
  /**
   * When the last round that caught up asked (0 never, or an index older than this field):
   * whatever the member had recorded by then is applied here.
   */
  asOfMs?: number;
}

/** How far a member has pulled this node's feed (in this index's epoch), and when it said so. */
export interface FeedAck {
  since: number;
  atMs: number;
}

interface IndexFile {
  /** 2: content hashes are SHA-256 (format 1's BLAKE3 index is rebuilt by a rescan). */
  format: 2;
  epoch: string;
  sequence: number;
  entries: IndexEntry[];
  peers: Record<string, PeerCursor>;
  acks?: Record<string, FeedAck>;
  /** The journal that continues this snapshot; another journal's lines are stale. */
  journal?: string;
}

/**
 * A journal line: the journal's id (its first line), an entry, a member's cursor, a member's
 * ack of this feed, or a tombstone dropped (with the sequence then, which must never go back).
 */
type JournalLine =
  | { id: string }
  | { entry: IndexEntry }
  | { peer: [string, PeerCursor] }
  | { ack: [string, FeedAck] }
  | { drop: string; sequence: number };

/** The journal is folded into a new snapshot once it has this many lines, or the index's size. */
const MIN_COMPACT_LINES = 1000;

/**
 * One volume's index on this node: every path with its record and local stamp, its own
 * sequence (the feed members pull), and the cursors of the members' feeds. Kept in a Map in
 * sequence order (an update moves the path to the end), so that the feed is read in order
 * without sorting. Persisted as a JSON snapshot written atomically plus a journal of JSON lines
 * appended since (`<file>.journal`), so that a save costs what changed, not the whole index; a
 * save folds the journal into a new snapshot once it is as long as the index. A missing or
 * unreadable snapshot starts a new epoch, and a rescan rebuilds the records (members then find
 * the same content and merge versions without moving data); a torn journal line ends the replay.
 */
export class VolumeIndex {
  private readonly entries = new Map<string, IndexEntry>();
  /**
   * The feed in sequence order, for a binary search of where a member's cursor is: a path and
   * the sequence it was put at, appended by every put. A pair whose path has been put again
   * since is stale and skipped; the arrays are rebuilt once stale pairs outnumber live ones.
   */
  private feedPaths: string[] = [];
  private feedSeqs: number[] = [];
  readonly peers = new Map<string, PeerCursor>();
  /** How far each member has pulled this feed: tombstones all have passed are dropped. */
  readonly acks = new Map<string, FeedAck>();
  /** Live files by content hash: where a rename's or a copy's bytes already are here. */
  private readonly byHash = new Map<string, Set<string>>();
  private listeners = new Set<() => void>();
  /** Paths whose entry changed since the last save. */
  private readonly dirty = new Set<string>();
  /** Paths whose tombstone was dropped since the last save. */
  private readonly dropped = new Set<string>();
  /** The journal in use, and how many lines it has; none until the first save. */
  private journal: { id: string; lines: number } | undefined;
  private saving: Promise<void> = Promise.resolve();

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
    let data: IndexFile;
    try {
      // Our own file, but a crash or a disk can leave anything in it.
      const parsed = JSON.parse(text) as Partial<IndexFile> | null;
      if (
        parsed?.format !== 2 ||
        typeof parsed.epoch !== 'string' ||
        typeof parsed.sequence !== 'number' ||
        !Array.isArray(parsed.entries) ||
        typeof parsed.peers !== 'object'
      ) {
        throw new Error('not an index');
      }
      data = parsed as IndexFile;
    } catch (err) {
      return { index: VolumeIndex.fresh(), problem: (err as Error).message };
    }
    const byPath = new Map(data.entries.map((e) => [e.record.path, e]));
    const peers = new Map(Object.entries(data.peers));
    const acks = new Map(Object.entries(data.acks ?? {}));
    let seq = data.sequence;
    if (data.journal !== undefined) {
      for (const line of await readJournal(journalOf(file), data.journal)) {
        if ('entry' in line) byPath.set(line.entry.record.path, line.entry);
        else if ('peer' in line) peers.set(line.peer[0], line.peer[1]);
        else if ('ack' in line) acks.set(line.ack[0], line.ack[1]);
        else if ('drop' in line) {
          byPath.delete(line.drop);
          seq = Math.max(seq, line.sequence);
        }
      }
    }
    for (const entry of byPath.values()) seq = Math.max(seq, entry.record.sequence);
    const index = new VolumeIndex(data.epoch, seq);
    for (const entry of [...byPath.values()].sort(
      (a, b) => a.record.sequence - b.record.sequence,
    )) {
      index.entries.set(entry.record.path, entry);
      index.feedPaths.push(entry.record.path);
      index.feedSeqs.push(entry.record.sequence);
      index.hashed(undefined, entry.record);
    }
    for (const [node, cursor] of peers) index.peers.set(node, cursor);
    for (const [node, ack] of acks) index.acks.set(node, ack);
    return { index };
  }

  /**
   * Makes what changed durable: appended to the journal (cursors every time: they are few), or,
   * once the journal is as long as the index, a new snapshot with an empty journal.
   */
  save(file: string): Promise<void> {
    // One save at a time: an append must not land in a journal a snapshot is replacing.
    const next = this.saving.then(() => this.saveNow(file));
    this.saving = next.catch(() => undefined);
    return next;
  }

  private async saveNow(file: string): Promise<void> {
    const lines = this.dirty.size + this.dropped.size + this.peers.size + this.acks.size;
    if (
      this.journal === undefined ||
      this.journal.lines + lines > Math.max(MIN_COMPACT_LINES, this.entries.size)
    ) {
      await this.snapshot(file);
      return;
    }
    const out: JournalLine[] = [];
    for (const path of this.dirty) {
      const entry = this.entries.get(path);
      if (entry !== undefined) out.push({ entry });
    }
    for (const drop of this.dropped) out.push({ drop, sequence: this.seq });
    for (const peer of this.peers) out.push({ peer });
    for (const ack of this.acks) out.push({ ack });
    this.dirty.clear();
    this.dropped.clear();
    const handle = await fsp.open(journalOf(file), 'a', 0o600);
    try {
      await handle.writeFile(out.map((l) => `${JSON.stringify(l)}\n`).join(''));
      await handle.datasync();
    } finally {
      await handle.close();
    }
    this.journal.lines += out.length;
  }

  private async snapshot(file: string): Promise<void> {
    await fsp.mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const id = randomBytes(8).toString('hex');
    this.dirty.clear();
    this.dropped.clear();
    const data: IndexFile = {
      format: 2,
      epoch: this.epoch,
      sequence: this.seq,
      entries: [...this.entries.values()],
      peers: Object.fromEntries(this.peers),
      acks: Object.fromEntries(this.acks),
      journal: id,
    };
    await writeFileAtomic(fsp, file, JSON.stringify(data), 0o600);
    // Then the snapshot's journal, empty but for its id. A crash in between leaves the old
    // journal, which the new snapshot does not name: it is ignored, the snapshot has it all.
    await writeFileAtomic(fsp, journalOf(file), `${JSON.stringify({ id })}\n`, 0o600);
    this.journal = { id, lines: 0 };
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
    this.dropped.delete(record.path);
    this.feedPaths.push(record.path);
    this.feedSeqs.push(full.sequence);
    if (this.feedPaths.length > 2 * this.entries.size + 1024) this.rebuildFeed();
    this.dirty.add(record.path);
    for (const listener of this.listeners) listener();
    return full;
  }

  /**
   * Forgets the tombstones with a sequence up to `upTo` (every member has pulled past them);
   * how many. The feed skips them from now on, and a member that pulls from the start never
   * hears of what it never had.
   */
  dropTombstones(upTo: number): number {
    let count = 0;
    for (const [path, entry] of this.entries) {
      // In sequence order: the rest are newer.
      if (entry.record.sequence > upTo) break;
      if (!entry.record.deleted) continue;
      this.entries.delete(path);
      this.dirty.delete(path);
      this.dropped.add(path);
      count++;
    }
    return count;
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
    this.dirty.add(path);
  }

  /** Records with a sequence above `since`, in order, at most `limit`; `more` if others follow. */
  changesSince(since: number, limit: number): { records: SyncRecord[]; more: boolean } {
    const records: SyncRecord[] = [];
    for (let i = firstAbove(this.feedSeqs, since); i < this.feedPaths.length; i++) {
      const record = this.entries.get(this.feedPaths[i] ?? '')?.record;
      if (record === undefined || record.sequence !== this.feedSeqs[i]) continue;
      if (records.length === limit) return { records, more: true };
      records.push(record);
    }
    return { records, more: false };
  }

  private rebuildFeed(): void {
    this.feedPaths = [...this.entries.keys()];
    this.feedSeqs = [...this.entries.values()].map((e) => e.record.sequence);
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

/** The index of the first number above `n` in ascending `sorted` (its length if none). */
function firstAbove(sorted: readonly number[], n: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? 0) <= n) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function journalOf(file: string): string {
  return `${file}.journal`;
}

/**
 * The lines of the journal `id`, up to the first that does not parse (a crash mid-append tears
 * the last one); none if the journal is missing or another's (the snapshot already has them).
 */
async function readJournal(path: string, id: string): Promise<JournalLine[]> {
  const text = await fsp.readFile(path, 'utf8').catch((err: unknown) => {
    if (hasCode(err, 'ENOENT')) return '';
    throw err;
  });
  const lines: JournalLine[] = [];
  for (const [n, raw] of text.split('\n').entries()) {
    let line: unknown;
    try {
      line = JSON.parse(raw);
    } catch {
      break;
    }
    if (typeof line !== 'object' || line === null) break;
    if (n === 0) {
      if (!('id' in line) || line.id !== id) return [];
      continue;
    }
    if ('entry' in line || 'peer' in line || 'ack' in line || 'drop' in line) {
      lines.push(line as JournalLine);
    } else break;
  }
  return lines;
}
