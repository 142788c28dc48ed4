import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { constants } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { messageOf, UnavailableError } from '../errors';
import { Dir, FileJobs, hasCode, openBeneath, parentOf, secondsOf, type EntryStat } from '../fs';
import type { Logger } from '../log';
import { checkEntryPath, linkStaysInside } from '../volumes/paths';
import { VolumeIndex, type PeerCursor } from './index-store';
import { SYNC_MODE_MASK, type IndexEntry, type SyncRecord } from './records';
import { decide, isConflictCopy, type Decision } from './resolve';
import {
  prehash,
  sameStamp,
  scan,
  stampOf,
  stampOfEntry,
  suspects,
  trusted,
  TEMP_PREFIX,
  type ScanOptions,
  type ScanStats,
} from './scanner';
import type { Signature } from './signature';
import { CACHED_SIGNATURE_BYTES, SignatureCache } from './signature-cache';
import {
  CopyChangedError,
  readDelta,
  receiveFile,
  signatureOfFile,
  SMALL_FILE_BYTES,
  StaleRecordError,
  type ChangesAnswer,
  type ChangesQuery,
  type FetchItem,
  type SyncPeer,
  type WholeFile,
  type WireCount,
} from './transfer';
import { FreeSpace, type StatFs } from './free-space';
import { watchTree } from './watcher';
import { CONTENT_HASH } from './content-hash';
import { FileBatch } from './file-batch';
import { Slots } from './slots';

/** Records per Changes answer at most, and the longest a long poll is held. */
export const MAX_CHANGES = 1000;
export const MAX_WAIT_MS = 30_000;
/**
 * Records of a member applied at once (on unrelated paths), and the bytes of the files among
 * them that are large: many small files go together (each is a few round trips and an fsync,
 * mostly waiting), large ones two at a time, so that what is in flight (HTTP/2 windows of 8 MiB,
 * buffers waiting for a write) stays small whatever the files' sizes.
 */
const APPLY_WINDOW = 64;
const APPLY_LARGE = 2;
/** A file this large counts against APPLY_LARGE. */
const LARGE_BYTES = 1024 * 1024;
/** The index is written at most this often while changes come in. */
const SAVE_DELAY_MS = 500;
/**
 * A batch of watcher events is gathered for this long before it is scanned (the native watcher
 * gathers its own first).
 */
const SETTLE_MS = 10;
/** Paths a periodic rescan scans per turn of the lock. */
const RESCAN_BATCH = 64;
/**
 * A node that has not pulled this feed for this long is taken to be gone for good: its ack no
 * longer holds tombstones back (should it come back with old files, they come back too).
 */
const ACK_TTL_MS = 30 * 24 * 3600_000;
/** What link(2) fails with where a file system has no hard links (see placeWhole). */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);
/** FetchFiles requests of members read at once, per volume (see readFiles). */
const SERVE_FILES_AT_ONCE = 2;
/** Watcher paths looked at per file job (see unsettled). */
const LSTAT_BATCH = 256;
/** Directories with renames not fsynced yet, held open, at most: then they are fsynced. */
const MAX_UNSYNCED_DIRS = 64;

export interface VolumeSyncOptions {
  app: string;
  /** The volume's path in the app's containers: with the app, its name across the cluster. */
  target: string;
  /** This node's copy of the volume. */
  dir: string;
  /** This node's id, which counts its changes in version vectors. */
  self: string;
  indexFile: string;
  log: Logger;
  /** How often the whole volume is rescanned besides the watcher (0: never). Default 30 s. */
  rescanMs?: number;
  /** Whether to watch the tree (tests of the rescan alone turn it off). Default true. */
  watch?: boolean;
  /** The file system's free space (tests give a full disk). Default statfs. */
  statfs?: StatFs;
  /** Where whole-file jobs run (the agent's worker threads). Default inline. */
  jobs?: FileJobs;
}

/** What a round with a member moves: files and bytes to fetch, and how many are done. */
export interface RoundProgress {
  files: number;
  bytes: number;
  doneFiles: number;
  doneBytes: number;
}

export interface PeerStatus extends PeerCursor {
  nodeId: string;
  inSync: boolean;
  /** The round in progress with this member, when it fetches anything. */
  round?: RoundProgress;
  /** The last failure of a round with this member, cleared by a good one. */
  error: string;
}

export interface VolumeSyncStatus {
  app: string;
  target: string;
  dir: string;
  files: number;
  bytes: number;
  sequence: number;
  conflicts: string[];
  /** What fetches into this node moved, since the agent started. */
  received: WireCount & { files: number };
  peers: PeerStatus[];
}

/** What became of a member's record here. */
type Outcome = 'skipped' | 'applied' | 'conflict';

/** What is on disk at a path is not what the index last saw: it is scanned before anything else. */
class UnscannedChangeError extends UnavailableError {}

/**
 * One rw volume of an app on this node, kept in sync with the members that run the app. It
 * indexes the local copy (watcher events, periodic rescans), serves its feed of changes and its
 * files' deltas to members, and pulls theirs: for every record a member sends, the local state
 * of that path is looked at afresh, the two versions are compared, and the member's version is
 * made so here (see `decide`) by writing a temp file beside the target, checking its SHA-256,
 * fsyncing it and renaming it over — so a file is either the old or the new version, never torn,
 * even on kill -9. A local file that changed since it was last indexed is never overwritten: the
 * change is indexed first, and then it is either newer or a conflict that keeps both.
 */
export class VolumeSync {
  private root: Dir | undefined;
  private index: VolumeIndex = VolumeIndex.fresh();
  private queue: Promise<unknown> = Promise.resolve();
  private watcher: { close(): Promise<void> } | undefined;
  /** Directories with renames not fsynced yet, by path (held open: see syncLater). */
  private readonly unsynced = new Map<string, Promise<Dir>>();
  private rescanning = false;
  private rescanAgain = false;
  /** Rounds in progress, by member. */
  private readonly rounds = new Map<string, RoundProgress>();
  private rescanTimer: NodeJS.Timeout | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private pendingPaths = new Set<string>();
  /** The members that run the app (besides this node), as the engine last said. */
  private members: ReadonlySet<string> = new Set();
  private readonly errors = new Map<string, string>();
  private closed = false;
  /** The index is loaded and the volume scanned (see requireStarted). */
  private started = false;
  readonly received = { literalBytes: 0, fileBytes: 0, files: 0 };
  private readonly signatures: SignatureCache;
  /** Signatures being built after a fetch (signLater), by content hash. */
  private readonly signing = new Map<string, Promise<void>>();
  private readonly space: FreeSpace;
  private readonly jobs: FileJobs;
  /** Whether small new files are linked into place (see placeWhole); false without hard links. */
  private wholeFiles = true;
  /** Paths a round is writing right now (see scanPaths). */
  private readonly writing = new Set<string>();
  private readonly tempBase = randomBytes(6).toString('hex');
  private tempCount = 0;
  /** FetchFiles requests served at once (see readFiles). */
  private readonly serving = new Slots(SERVE_FILES_AT_ONCE);

  constructor(private readonly options: VolumeSyncOptions) {
    this.signatures = new SignatureCache(`${options.indexFile.replace(/\.json$/, '')}.sigs`);
    this.space = new FreeSpace(options.dir, options.statfs);
    this.jobs = options.jobs ?? FileJobs.inline();
  }

  get app(): string {
    return this.options.app;
  }

  get target(): string {
    return this.options.target;
  }

  /** Loads the index, sweeps temp files a crash left, scans, and starts watching. */
  async start(): Promise<void> {
    const { log, dir } = this.options;
    const loaded = await VolumeIndex.load(this.options.indexFile);
    if (loaded.problem !== undefined) {
      log.warn('sync index unreadable: rebuilt by a rescan', { problem: loaded.problem });
    }
    this.index = loaded.index;
    await mkdir(dir, { recursive: true, mode: 0o755 });
    this.root = await Dir.open(dir);
    await this.sweepTemp(this.root);
    const stats = await this.rescan('');
    await this.pruneSignatures();
    log.info('sync volume indexed', {
      app: this.app,
      target: this.target,
      files: this.index.size,
      changed: stats.changed,
      hashedBytes: stats.hashedBytes,
    });
    if (this.options.watch !== false) {
      this.watcher = await watchTree(
        dir,
        (paths) => {
          this.changed(paths);
        },
        (err) => log.warn('sync watcher failed; rescans continue', { error: err.message }),
        (reason) =>
          log.warn("sync: the native watcher cannot load here; Node's fs.watch stands in", {
            reason,
          }),
      );
    }
    this.started = true;
    const every = this.options.rescanMs ?? 30_000;
    if (every > 0) {
      this.rescanTimer = setInterval(() => {
        this.rescanAll().catch((err: unknown) => {
          this.failed('rescan', err);
        });
      }, every);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.rescanTimer);
    clearTimeout(this.settleTimer);
    await this.watcher?.close().catch(() => undefined);
    await this.queue.catch(() => undefined);
    await Promise.all(this.signing.values());
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    await this.save();
    await this.root?.close();
  }

  /**
   * A rescan of the whole volume (periodic, or after a burst of events too large to name): the
   * walk that compares stamps runs outside the lock, and only what it finds is scanned under
   * it, a few paths at a time, so syncing goes on meanwhile. Asked for while one runs, another
   * follows it: what changed behind its walk may have been passed over.
   */
  private async rescanAll(): Promise<void> {
    if (this.rescanning) {
      this.rescanAgain = true;
      return;
    }
    this.rescanning = true;
    // A function: a change event sets the flag while the loop awaits.
    const again = (): boolean => this.rescanAgain && !this.closed;
    try {
      do {
        this.rescanAgain = false;
        const paths = await suspects(this.requireRoot(), this.index, this.jobs);
        for (let i = 0; i < paths.length && !this.closed; i += RESCAN_BATCH) {
          await this.scanPaths(paths.slice(i, i + RESCAN_BATCH));
        }
      } while (again());
      await this.pruneSignatures();
      await this.collectTombstones();
    } finally {
      this.rescanning = false;
    }
  }

  /**
   * Scans `paths` under the volume's lock, having hashed what they hold outside it first: a
   * large file written or a directory of thousands moved in does not hold up syncing while it
   * is read.
   */
  private async scanPaths(paths: readonly string[]): Promise<void> {
    const unsettled = await this.unsettled(paths);
    // A path a round is writing right now takes its new stamp in the index with the write: it
    // is looked at again once the round (which holds the lock) is over, not hashed now.
    const writing = unsettled.filter((path) => this.writing.has(path));
    if (writing.length > 0) {
      void this.exclusive(() => Promise.resolve()).then(() => {
        if (!this.closed) this.changed(writing);
      });
    }
    const changed = unsettled.filter((path) => !this.writing.has(path));
    if (changed.length === 0) return;
    const known = await prehash(this.requireRoot(), this.index, changed, this.jobs);
    await this.exclusive(() => this.scanNow(changed, { known }));
  }

  /**
   * The paths of a watcher batch whose entry is not what the index holds. Most events while a
   * member's changes come in are this node's own writes (each rename into place is one), indexed
   * already with the stamp they were placed with: one look at them, in one file job per
   * LSTAT_BATCH paths, and they are passed over.
   */
  private async unsettled(paths: readonly string[]): Promise<string[]> {
    const root = this.requireRoot();
    const out: string[] = [];
    const checked: { path: string; segments: string[] }[] = [];
    for (const path of paths) {
      try {
        checked.push({ path, segments: checkEntryPath(path) });
      } catch {
        out.push(path);
      }
    }
    for (let i = 0; i < checked.length; i += LSTAT_BATCH) {
      const batch = checked.slice(i, i + LSTAT_BATCH);
      const stats = await this.jobs.lstatAll(
        root,
        batch.map((c) => c.segments),
      );
      batch.forEach(({ path }, j) => {
        if (!this.settled(path, stats[j])) out.push(path);
      });
    }
    return out;
  }

  /** Whether what is at `path` (`st`, undefined when nothing is) is what the index holds. */
  private settled(path: string, st: EntryStat | undefined): boolean {
    const entry = this.index.get(path);
    const live = entry !== undefined && !entry.record.deleted ? entry.record : undefined;
    if (st === undefined) return live === undefined;
    if (live === undefined || entry?.stamp === undefined) return false;
    const stamp = stampOfEntry(st);
    if (st.kind === 'dir') {
      // A directory's times move with what is in it; its own record is its mode (and a
      // directory put in its place is another inode).
      return (
        live.kind === 'dir' &&
        entry.stamp.ino === stamp.ino &&
        live.mode === (st.mode & SYNC_MODE_MASK)
      );
    }
    return live.kind === st.kind && trusted(entry.stamp, stamp);
  }

  /** Scans `prefix` ('' for everything) under the volume's lock. */
  rescan(prefix: string): Promise<ScanStats> {
    return this.exclusive(() => this.scanNow([prefix]));
  }

  /** Scans `paths` (the caller holds the lock), and saves the index soon if anything changed. */
  private async scanNow(paths: readonly string[], options: ScanOptions = {}): Promise<ScanStats> {
    const before = this.index.sequence;
    const stats: ScanStats = { changed: 0, hashedBytes: 0 };
    for (const path of paths) {
      if (this.closed) return stats;
      const one = await scan(this.requireRoot(), this.index, this.options.self, path, {
        ...options,
        jobs: this.jobs,
      });
      stats.changed += one.changed;
      stats.hashedBytes += one.hashedBytes;
    }
    if (this.index.sequence !== before) this.scheduleSave();
    return stats;
  }

  /** The feed a member pulls: records past its cursor, after a wait for one if there are none. */
  async changes(query: ChangesQuery, signal: AbortSignal, caller?: string): Promise<ChangesAnswer> {
    this.requireStarted();
    const since = query.epoch === this.index.epoch ? query.since : 0;
    // The caller has applied everything up to `since` (its cursor moves only past what it
    // applied): what holds tombstones back until every member has them.
    if (caller !== undefined && query.epoch === this.index.epoch) {
      // A node's first ack is saved soon: a restart must not forget that it holds tombstones.
      if (!this.index.acks.has(caller)) this.scheduleSave();
      this.index.acks.set(caller, {
        since: Math.min(since, this.index.sequence),
        atMs: Date.now(),
      });
    }
    const wait = Math.min(Math.max(query.waitMs, 0), MAX_WAIT_MS);
    await this.index.waitPast(since, wait, signal);
    const limit = Math.min(Math.max(query.limit, 1), MAX_CHANGES);
    const { records, more } = this.index.changesSince(since, limit);
    return { records, more, sequence: this.index.sequence, epoch: this.index.epoch };
  }

  /**
   * A file of this volume as a delta against a member's copy. What was sent is not what the
   * index says when the file changed since it was scanned: it is scanned again, content and all
   * (a write within the clock tick of the last scan leaves its stamp alone), so that the member,
   * which passes over a stale record, finds the new version in the feed.
   */
  async *read(path: string, signature: Signature, signal: AbortSignal): AsyncGenerator<FetchItem> {
    this.requireStarted();
    const entry = this.index.get(path);
    const indexed =
      entry?.record.kind === 'file' && !entry.record.deleted && entry.stamp !== undefined
        ? { hash: entry.record.hash, stamp: entry.stamp }
        : undefined;
    for await (const item of readDelta(
      this.requireRoot(),
      path,
      signature,
      signal,
      this.jobs,
      indexed,
    )) {
      if (item.kind === 'end') {
        const now = this.index.get(path)?.record;
        const hash = now === undefined || now.deleted ? undefined : now.hash;
        if (item.gone || item.hash !== hash) this.recheck(path);
      }
      yield item;
    }
  }

  /**
   * Small files of this volume whole, for a member that has no copy of them: read and hashed
   * in one file job, a few requests at a time (each holds up to MAX_FETCH_FILES files of
   * SMALL_FILE_BYTES in memory until sent). Served as `read` is: a file that is not what the
   * index says is looked at again.
   */
  async *readFiles(paths: readonly string[], signal: AbortSignal): AsyncGenerator<WholeFile> {
    this.requireStarted();
    const segments = paths.map((path) => checkEntryPath(path));
    const release = await this.serving.acquire();
    try {
      const root = this.requireRoot();
      const reads = await this.jobs.readFiles(root, segments, SMALL_FILE_BYTES, CONTENT_HASH);
      for (const [index, read] of reads.entries()) {
        if (signal.aborted) return;
        const path = paths[index] ?? '';
        const none = { index, data: Buffer.alloc(0), hash: '', mode: 0, mtimeMs: 0 };
        if (read.kind === 'large') {
          yield { ...none, status: 'large' };
          continue;
        }
        const now = this.index.get(path)?.record;
        const indexed = now === undefined || now.deleted ? undefined : now.hash;
        if (read.kind === 'gone') {
          this.recheck(path);
          yield { ...none, status: 'gone' };
          continue;
        }
        const hash = read.digest ?? '';
        if (hash !== indexed) this.recheck(path);
        yield {
          index,
          status: 'ok',
          data: Buffer.from(read.buffer, 0, read.length),
          hash,
          mode: read.before.mode & 0o7777,
          mtimeMs: Math.floor(read.before.mtimeMs),
        };
      }
    } finally {
      release();
    }
  }

  /** Scans `path` again soon, rehashing it whatever its stamp says. */
  private recheck(path: string): void {
    if (this.closed) return;
    this.exclusive(() => this.scanNow([path], { rehash: true })).catch((err: unknown) => {
      this.failed('scan', err);
    });
  }

  /**
   * One round with a member: its changes past this node's cursor (waiting up to `waitMs` for
   * some), each decided and applied in order under the volume's lock. The cursor moves past a
   * record only once it is applied, so a round cut off anywhere resumes where it stopped.
   * Resolves to whether this node has caught up with the member.
   */
  async pullOnce(peer: SyncPeer, waitMs: number, signal: AbortSignal): Promise<boolean> {
    const cursor = this.index.peers.get(peer.nodeId) ?? {
      epoch: '',
      since: 0,
      sequence: 0,
      syncedAtMs: 0,
    };
    let answer: ChangesAnswer;
    const askedAtMs = Date.now();
    try {
      answer = await peer.changes(
        { since: cursor.since, epoch: cursor.epoch, limit: MAX_CHANGES, waitMs },
        signal,
      );
    } catch (err) {
      this.errors.set(peer.nodeId, messageOf(err));
      throw err;
    }
    const next: PeerCursor = { ...cursor, sequence: answer.sequence };
    if (answer.epoch !== cursor.epoch) {
      next.epoch = answer.epoch;
      next.since = 0;
    }
    const applied = { files: 0, deleted: 0, conflicts: 0 };
    // What this round will fetch, as far as the index tells (a record it has seen is skipped).
    const round: RoundProgress = { files: 0, bytes: 0, doneFiles: 0, doneBytes: 0 };
    const fetches = (record: SyncRecord): boolean =>
      !record.deleted &&
      record.kind === 'file' &&
      decide(this.index.get(record.path)?.record, record).action !== 'skip';
    for (const record of answer.records) {
      if (!fetches(record)) continue;
      round.files++;
      round.bytes += record.size;
    }
    if (round.files > 0) this.rounds.set(peer.nodeId, round);
    try {
      await this.exclusive(async () => {
        // Several paths at once: a file costs a few round trips and fsyncs, mostly waiting.
        // A record waits for those in flight on its own path, its parents and its children, so
        // a directory comes before what is in it, and is deleted after it.
        const inFlight = new Map<string, Promise<void>>();
        const files = new FileBatch(peer, signal);
        const finished = new Set<number>();
        let largeInFlight = 0;
        let cursor = 0;
        let failure: { err: unknown } | undefined;
        // A function: the callbacks below set `failure` while the loop awaits.
        const failed = (): boolean => failure !== undefined;
        const done = (i: number): void => {
          finished.add(i);
          // The cursor moves only past records all of whose predecessors are done too.
          while (finished.has(cursor)) {
            next.since = answer.records[cursor]?.sequence ?? next.since;
            cursor++;
          }
          this.index.peers.set(peer.nodeId, { ...next });
          this.scheduleSave();
        };
        for (const [i, record] of answer.records.entries()) {
          if (signal.aborted || this.closed || failed()) break;
          // What this node has already (the echo of its own changes, or of another member's
          // that it applied) is done on the spot: rounds are mostly that, and a member that
          // joins goes through every record of every other member's feed.
          if (decide(this.index.get(record.path)?.record, record).action === 'skip') {
            done(i);
            continue;
          }
          // A deletion also waits for every file in flight: one of them may be reading the
          // deleted file as its basis (a rename arrives as a new path and a tombstone).
          const before = [...inFlight].filter(
            ([path]) => record.deleted || related(path, record.path),
          );
          await Promise.all(before.map(([, task]) => task));
          const counted = fetches(record);
          const large = counted && record.size >= LARGE_BYTES ? 1 : 0;
          if (inFlight.size >= APPLY_WINDOW) {
            // A full window is refilled by halves, not one by one: the small files a refill
            // starts are asked for, and written, together (see FileBatch and placeNew).
            while (inFlight.size > APPLY_WINDOW / 2) await Promise.race(inFlight.values());
          }
          while (largeInFlight + large > APPLY_LARGE) await Promise.race(inFlight.values());
          if (failed()) break;
          largeInFlight += large;
          const task = this.takeUnlessStale(peer, record, signal, files).then(
            (outcome) => {
              if (counted) {
                round.doneFiles++;
                round.doneBytes += record.size;
              }
              if (outcome === 'conflict') applied.conflicts++;
              else if (outcome === 'applied') {
                if (record.deleted) applied.deleted++;
                else applied.files++;
              }
              done(i);
            },
            (err: unknown) => {
              failure ??= { err };
            },
          );
          const tracked = task.finally(() => {
            inFlight.delete(record.path);
            largeInFlight -= large;
          });
          inFlight.set(record.path, tracked);
        }
        await Promise.all(inFlight.values());
        if (failure !== undefined) throw failure.err;
      });
    } catch (err) {
      this.errors.set(peer.nodeId, messageOf(err));
      throw err;
    } finally {
      this.rounds.delete(peer.nodeId);
      this.index.peers.set(peer.nodeId, { ...next });
    }
    this.errors.delete(peer.nodeId);
    const caughtUp = !answer.more && next.since >= answer.sequence;
    if (caughtUp) {
      this.index.peers.set(peer.nodeId, { ...next, syncedAtMs: Date.now(), asOfMs: askedAtMs });
    }
    if (applied.files + applied.deleted + applied.conflicts > 0) {
      this.options.log.info('sync round', {
        app: this.app,
        target: this.target,
        from: peer.nodeId,
        ...applied,
        literalBytes: this.received.literalBytes,
      });
    }
    return caughtUp;
  }

  /** The members that run the app besides this node: each must have a tombstone before it goes. */
  setMembers(nodeIds: Iterable<string>): void {
    this.members = new Set(nodeIds);
  }

  /**
   * Drops the tombstones every node that runs the app has: the members that run it now and
   * every node that pulled this feed within ACK_TTL_MS. A node has a tombstone once it pulled
   * past it (its ack), and once this node has caught up with it in a round that asked after
   * that ack: an answer it sent before it applied the deletion, with the file's old record, can
   * no longer be on its way here, to bring the file back once the tombstone is gone. With no
   * such node at all (an app on one node), tombstones have nobody to reach and go at once.
   */
  collectTombstones(now = Date.now()): Promise<number> {
    return this.exclusive(() => Promise.resolve(this.dropHeldTombstones(now)));
  }

  private dropHeldTombstones(now: number): number {
    let upTo = this.index.sequence;
    const nodes = new Set(this.members);
    for (const [node, ack] of this.index.acks) {
      if (now - ack.atMs > ACK_TTL_MS && !this.members.has(node)) this.index.acks.delete(node);
      else nodes.add(node);
    }
    for (const node of nodes) {
      const ack = this.index.acks.get(node);
      const cursor = this.index.peers.get(node);
      const fenced = ack !== undefined && (cursor?.asOfMs ?? 0) > ack.atMs;
      upTo = Math.min(upTo, fenced ? ack.since : 0);
    }
    if (upTo === 0) return 0;
    const dropped = this.index.dropTombstones(upTo);
    if (dropped > 0) {
      this.options.log.debug('sync: tombstones every node has were dropped', {
        app: this.app,
        target: this.target,
        dropped,
      });
      this.scheduleSave();
    }
    return dropped;
  }

  /** Forgets a member's failure (it is no longer a member that runs the app). */
  forget(nodeId: string): void {
    this.errors.delete(nodeId);
  }

  /** The volume's state, with a row for every member in `members` and every one it synced with. */
  status(members: readonly string[] = []): VolumeSyncStatus {
    let files = 0;
    let bytes = 0;
    const conflicts: string[] = [];
    for (const { record } of this.index.values()) {
      if (record.deleted) continue;
      if (record.kind === 'file') {
        files++;
        bytes += record.size;
      }
      if (isConflictCopy(record.path)) conflicts.push(record.path);
    }
    const cursors = new Map(this.index.peers);
    for (const nodeId of [...members, ...this.rounds.keys()]) {
      if (!cursors.has(nodeId))
        cursors.set(nodeId, { epoch: '', since: 0, sequence: 0, syncedAtMs: 0 });
    }
    const peers = [...cursors].map(([nodeId, cursor]): PeerStatus => {
      const round = this.rounds.get(nodeId);
      return {
        nodeId,
        ...cursor,
        inSync: cursor.epoch !== '' && cursor.since >= cursor.sequence && !this.errors.has(nodeId),
        error: this.errors.get(nodeId) ?? '',
        ...(round === undefined ? {} : { round: { ...round } }),
      };
    });
    return {
      app: this.app,
      target: this.target,
      dir: this.options.dir,
      files,
      bytes,
      sequence: this.index.sequence,
      conflicts: conflicts.sort(),
      received: { ...this.received },
      peers,
    };
  }

  /**
   * `take`, passing over a record whose file changed on the member since it announced it: the
   * member's feed carries the version it has now (see `read`), so the cursor may move on, and a
   * file written to all the time cannot hold up the rest of a round (or a join).
   */
  private async takeUnlessStale(
    peer: SyncPeer,
    remote: SyncRecord,
    signal: AbortSignal,
    files: FileBatch,
  ): Promise<Outcome> {
    try {
      return await this.take(peer, remote, signal, files);
    } catch (err) {
      if (!(err instanceof StaleRecordError) || signal.aborted) throw err;
      this.options.log.debug('sync: passed over a version the member no longer has', {
        app: this.app,
        path: remote.path,
        member: peer.nodeId,
      });
      return 'skipped';
    }
  }

  /** Decides one member record against the path's fresh local state, and carries it out. */
  private async take(
    peer: SyncPeer,
    remote: SyncRecord,
    signal: AbortSignal,
    files: FileBatch,
  ): Promise<Outcome> {
    const root = this.requireRoot();
    const { self } = this.options;
    // Older than or equal to what the index has here is older than what the disk has (a change
    // not scanned yet only adds to the local version): skipped without looking at the disk, so
    // the echo of this node's own changes from a member costs nothing.
    if (decide(this.index.get(remote.path)?.record, remote).action === 'skip') return 'skipped';
    // A change made here since the last scan must count before anything replaces it. A new
    // path the index has never seen is not looked up first (most are new files): if something
    // is there after all, materialize refuses to replace it, and it is scanned then.
    const prescan = remote.deleted || this.index.get(remote.path) !== undefined;
    if (prescan) await scan(root, this.index, self, remote.path, { jobs: this.jobs });
    try {
      return await this.carryOut(peer, remote, signal, files);
    } catch (err) {
      if (prescan || !(err instanceof UnscannedChangeError)) throw err;
      await scan(root, this.index, self, remote.path, { jobs: this.jobs });
      return this.carryOut(peer, remote, signal, files);
    }
  }

  /** Decides a member record against the index (just brought up to date), and carries it out. */
  private async carryOut(
    peer: SyncPeer,
    remote: SyncRecord,
    signal: AbortSignal,
    files: FileBatch,
  ): Promise<Outcome> {
    const root = this.requireRoot();
    const { self } = this.options;
    const decision: Decision = decide(this.index.get(remote.path)?.record, remote);
    switch (decision.action) {
      case 'skip':
        return 'skipped';
      case 'adopt':
        this.index.put(decision.record, this.index.get(remote.path)?.stamp);
        return 'skipped';
      case 'apply':
        await this.materialize(peer, decision.record, decision.record.path, signal, files);
        return 'applied';
      case 'apply-keep-local': {
        await scan(root, this.index, self, decision.conflictPath, { jobs: this.jobs });
        await this.moveAside(remote.path, decision.conflictPath);
        await scan(root, this.index, self, decision.conflictPath, { jobs: this.jobs });
        await this.materialize(peer, decision.record, decision.record.path, signal, files);
        this.options.log.warn('sync conflict: kept both versions', {
          app: this.app,
          path: remote.path,
          copy: decision.conflictPath,
        });
        return 'conflict';
      }
      case 'keep-fetch-remote': {
        await scan(root, this.index, self, decision.conflictPath, { jobs: this.jobs });
        await this.materialize(peer, decision.remote, decision.conflictPath, signal, files);
        this.index.put(decision.record, this.index.get(remote.path)?.stamp);
        await scan(root, this.index, self, decision.conflictPath, { jobs: this.jobs });
        this.options.log.warn('sync conflict: kept both versions', {
          app: this.app,
          path: remote.path,
          copy: decision.conflictPath,
        });
        return 'conflict';
      }
    }
  }

  /** Makes `at` on disk what `record` says (its bytes fetched from the member's `record.path`). */
  private async materialize(
    peer: SyncPeer,
    record: SyncRecord,
    at: string,
    signal: AbortSignal,
    files: FileBatch,
  ): Promise<void> {
    this.writing.add(at);
    try {
      await this.materializeNow(peer, record, at, signal, files);
    } finally {
      this.writing.delete(at);
    }
  }

  private async materializeNow(
    peer: SyncPeer,
    record: SyncRecord,
    at: string,
    signal: AbortSignal,
    files: FileBatch,
  ): Promise<void> {
    const segments = checkEntryPath(at);
    const own = at === record.path;
    if (own && this.fetchesWhole(record) && (await this.placeWhole(files, record, segments))) {
      return;
    }
    const name = segments[segments.length - 1] ?? '';
    const root = this.requireRoot();
    const parent = await parentOf(root, segments, !record.deleted);
    if (parent === undefined) {
      // Deleted, and its directory is gone here too: nothing left to remove.
      if (record.deleted) {
        if (own) this.index.put(record, undefined);
        return;
      }
      this.noParent(at);
      return;
    }
    try {
      const existing = await parent.lstat(name);
      const entry = this.index.get(at);
      if (!record.deleted && existing !== undefined && !this.unchanged(entry, existing)) {
        if (entry === undefined && !(await indexable(parent, name, at, existing))) {
          // A link out of the volume, a fifo, a socket: not data, but not ours to replace.
          this.options.log.warn('sync: a path cannot be placed here, something else is there', {
            app: this.app,
            path: at,
          });
          return;
        }
        throw new UnscannedChangeError(
          `sync: ${at} changed here while it was synced; looked at again`,
        );
      }
      if (record.deleted) {
        await this.remove(parent, name, entry, existing);
        if (own) this.index.put(record, undefined);
        return;
      }
      const stamp = await this.write(peer, parent, at, record, existing, entry, signal);
      if (own) {
        this.index.put(record, stamp);
        if (record.kind === 'file' && record.size >= CACHED_SIGNATURE_BYTES) {
          this.signLater(at, record.hash, record.size);
        }
      }
    } finally {
      await parent.close();
    }
  }

  private async remove(
    parent: Dir,
    name: string,
    entry: IndexEntry | undefined,
    existing: Stats | undefined,
  ): Promise<void> {
    if (existing === undefined) return;
    if (existing.isDirectory()) {
      // Whatever is still in it is not deleted on the member: it stays, and so does the directory.
      await parent.rmdir(name);
    } else if (this.unchanged(entry, existing)) {
      await parent.unlink(name);
    } else {
      // Changed here since indexed: an edit wins over a delete, so it stays (and is rescanned).
      return;
    }
    await parent.sync();
  }

  /** Writes `record` at `at` (whose last segment is in `parent`). */
  private async write(
    peer: SyncPeer,
    parent: Dir,
    at: string,
    record: SyncRecord,
    existing: Stats | undefined,
    entry: IndexEntry | undefined,
    signal: AbortSignal,
  ): Promise<IndexEntry['stamp']> {
    const name = at.split('/').pop() ?? '';
    const mode = record.mode & SYNC_MODE_MASK;
    if (record.kind === 'dir') {
      if (existing !== undefined && !existing.isDirectory()) await parent.unlink(name);
      const dir = await parent.ensureDir(name);
      try {
        await dir.chmod(mode);
        return stampOf(await dir.stat());
      } finally {
        await dir.close();
      }
    }
    const temp = this.tempName();
    try {
      if (record.kind === 'symlink') {
        if (!linkStaysInside(record.path, record.linkTarget)) {
          throw new UnavailableError(`sync: the link ${record.path} points outside the volume`);
        }
        await parent.symlink(record.linkTarget, temp);
      } else {
        const same =
          entry?.record.deleted === false &&
          entry.record.kind === 'file' &&
          entry.record.hash === record.hash &&
          existing?.isFile() === true;
        if (same) {
          // The bytes are here already: only the mode and mtime are the member's.
          const fh = await parent.file(name, constants.O_RDONLY);
          try {
            await fh.chmod(mode);
            await fh.utimes(secondsOf(record.mtimeMs), secondsOf(record.mtimeMs));
            return stampOf(await fh.stat());
          } finally {
            await fh.close();
          }
        }
        const local = existing === undefined ? undefined : { stats: existing, entry };
        await this.fetchInto(peer, parent, temp, at, record, local, signal);
      }
      if (existing?.isDirectory() === true && !(await parent.rmdir(name))) {
        throw new UnavailableError(`sync: ${record.path} is a directory with files here`);
      }
      await parent.rename(temp, name);
      await this.syncLater(parent, record.path);
    } catch (err) {
      await parent.unlink(temp).catch(() => undefined);
      throw err;
    }
    // Not racy (see LocalStamp), though just written: its mtime is the member's, set by hand in
    // whole milliseconds, and a write here after this would set it to the clock's time instead.
    const placed = await parent.lstat(name);
    return placed === undefined ? undefined : stampOf(placed);
  }

  /**
   * Whether `record` is a small file at a path this node has never seen, with no content here
   * to build on: most of a first sync, fetched whole (see placeWhole).
   */
  private fetchesWhole(record: SyncRecord): boolean {
    return (
      this.wholeFiles &&
      !record.deleted &&
      record.kind === 'file' &&
      record.size <= SMALL_FILE_BYTES &&
      this.index.get(record.path) === undefined &&
      this.index.withHash(record.hash).length === 0
    );
  }

  /**
   * Fetches a small new file whole, in one FetchFiles with the round's others, and links it
   * into place with others in one file job (temp file, fsync, link, directory fsync), never
   * over anything there: what is there was not scanned yet, and is scanned first. False when
   * the member did not send it whole (it is fetched as a delta then).
   */
  private async placeWhole(
    files: FileBatch,
    record: SyncRecord,
    segments: string[],
  ): Promise<boolean> {
    const file = await files.get(record.path);
    if (file.status === 'large') return false;
    await this.space.reserve(record.size, record.path);
    if (file.status === 'gone' || file.data.length !== record.size || file.hash !== record.hash) {
      throw new StaleRecordError(
        `sync: ${record.path} changed on the member since it was indexed; it is fetched again`,
      );
    }
    this.received.literalBytes += file.data.length;
    const placed = await this.jobs.placeNew(this.requireRoot(), {
      segments,
      temp: this.tempName(),
      data: file.data,
      mode: record.mode & SYNC_MODE_MASK,
      mtimeMs: record.mtimeMs,
      digest: { algorithm: CONTENT_HASH, hex: record.hash },
    });
    switch (placed.kind) {
      case 'placed':
        this.received.fileBytes += file.data.length;
        this.received.files++;
        this.index.put(record, stampOfEntry(placed.stat));
        return true;
      case 'exists':
        throw new UnscannedChangeError(
          `sync: ${record.path} changed here while it was synced; looked at again`,
        );
      case 'mismatch':
        throw new StaleRecordError(
          `sync: the member sent ${record.path} with other bytes than it names; it is fetched again`,
        );
      case 'no-parent':
        this.noParent(record.path);
        return true;
      case 'failed':
        if (placed.code !== undefined && NO_LINKS.has(placed.code)) {
          // A file system without hard links (vfat, some network mounts) cannot place a file
          // without replacing what is there: from now on this volume's files all take the
          // temp-and-rename way, this one first.
          this.wholeFiles = false;
          this.options.log.info(
            'sync: no hard links on this volume; files are renamed into place',
            {
              app: this.app,
              target: this.target,
              error: placed.message,
            },
          );
          return false;
        }
        throw new UnavailableError(`sync: ${record.path} was not written: ${placed.message}`);
    }
  }

  /**
   * A parent of `path` here is a file or a symlink (never followed). Not recorded, so that this
   * node never passes on a deletion of what it could not place: the member keeps its version.
   */
  private noParent(path: string): void {
    this.options.log.warn('sync: a path cannot be placed here, a parent is not a directory', {
      app: this.app,
      path,
    });
  }

  /** A new name for a temp file: unique in this process (written with O_EXCL all the same). */
  private tempName(): string {
    return `${TEMP_PREFIX}${this.tempBase}-${(this.tempCount++).toString(36)}.tmp`;
  }

  /**
   * Fetches a member's file into `temp` (in the directory of `at`), fsynced, with its mode and
   * mtime. The signature of the local copy it builds on is read from the cache when the copy is
   * large and indexed as unchanged; a large file fetched leaves its own signature for next time.
   */
  private async fetchInto(
    peer: SyncPeer,
    parent: Dir,
    temp: string,
    at: string,
    record: SyncRecord,
    existing: { stats: Stats; entry: IndexEntry | undefined } | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    await this.space.reserve(record.size, record.path);
    const basis = await this.basisFor(parent, at, existing, record.hash);
    try {
      const size = basis === undefined ? 0 : (await basis.handle.stat()).size;
      // A signature still being built (signLater) is waited for, not built twice.
      if (basis?.hash !== undefined) await this.signing.get(basis.hash);
      const cached =
        basis?.hash === undefined
          ? undefined
          : await this.signatures.get(basis.hash, size).catch(() => undefined);
      const signature = cached ?? (await signatureOfFile(basis?.handle, size));
      const out = await parent.file(
        temp,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
      );
      try {
        await receiveFile(
          out,
          basis?.handle,
          signature,
          peer.fetch(record.path, signature, signal),
          record,
          this.received,
        ).catch(async (err: unknown) => {
          if (err instanceof CopyChangedError && basis !== undefined) {
            // The copy, or what the cache said of it, was not what the index says: neither is
            // trusted by the retry.
            if (cached !== undefined && basis.hash !== undefined) {
              await this.signatures.drop(basis.hash).catch(() => undefined);
            }
            this.recheck(basis.path);
          }
          throw err;
        });
        await out.chmod(record.mode & SYNC_MODE_MASK);
        await out.utimes(secondsOf(record.mtimeMs), secondsOf(record.mtimeMs));
        await out.sync();
      } finally {
        await out.close();
      }
      this.received.files++;
    } finally {
      await basis?.handle.close();
    }
  }

  /** Forgets the signatures of content that no file here has any more. */
  private async pruneSignatures(): Promise<void> {
    await this.signatures
      .prune((hash) => this.index.withHash(hash).length > 0)
      .catch((err: unknown) => {
        this.failed('signature cache prune', err);
      });
  }

  /**
   * Builds and caches the signature of the large file just placed at `path` (content `hash`),
   * for the next change to it to move as a delta without reading it first. Not while it is
   * received: there it cost the receiver about 80 ms of its main thread per 100 MiB, and the
   * file was that much later in place. A fetch that needs it meanwhile waits for it.
   */
  private signLater(path: string, hash: string, size: number): void {
    if (this.signing.has(hash) || this.closed) return;
    const done = this.sign(path, hash, size)
      .catch((err: unknown) => {
        // A hint: the next fetch reads the file for its signature instead.
        this.options.log.debug('sync: a signature was not cached', { error: messageOf(err) });
      })
      .finally(() => this.signing.delete(hash));
    this.signing.set(hash, done);
  }

  private async sign(path: string, hash: string, size: number): Promise<void> {
    if ((await this.signatures.get(hash, size).catch(() => undefined)) !== undefined) return;
    const fh = await openBeneath(this.requireRoot(), checkEntryPath(path));
    if (fh === undefined) return;
    try {
      // Only the content the index names, unchanged from before the read to after it.
      const holds = async (): Promise<boolean> => {
        const entry = this.index.get(path);
        return (
          entry?.record.kind === 'file' &&
          !entry.record.deleted &&
          entry.record.hash === hash &&
          this.unchanged(entry, await fh.stat())
        );
      };
      if (!(await holds())) return;
      const signature = await signatureOfFile(fh, size);
      if (!(await holds())) return;
      await this.signatures.put(hash, signature);
    } finally {
      await fh.close();
    }
  }

  /**
   * The local bytes a fetch builds on, and their content hash when the index vouches for it:
   * the file's own older version (unchanged since indexed), or else a file here with the very
   * content wanted (a rename or a copy on the member moves no data).
   */
  private async basisFor(
    parent: Dir,
    path: string,
    existing: { stats: Stats; entry: IndexEntry | undefined } | undefined,
    hash: string,
  ): Promise<{ handle: FileHandle; path: string; hash?: string } | undefined> {
    if (existing?.stats.isFile() === true) {
      const name = path.split('/').pop() ?? '';
      const handle = await parent.file(name, constants.O_RDONLY).catch(() => undefined);
      if (handle === undefined) return undefined;
      const { entry } = existing;
      if (entry?.record.kind !== 'file' || !this.unchanged(entry, existing.stats)) {
        return { handle, path };
      }
      return { handle, path, hash: entry.record.hash };
    }
    for (const other of this.index.withHash(hash)) {
      const handle = await openBeneath(this.requireRoot(), checkEntryPath(other)).catch(
        () => undefined,
      );
      // Not vouched for: its stamp was not looked at.
      if (handle !== undefined) return { handle, path: other };
    }
    return undefined;
  }

  /** Moves the local version of a path aside, to the conflict copy's name. */
  private async moveAside(path: string, conflictPath: string): Promise<void> {
    const segments = checkEntryPath(path);
    const parent = await parentOf(this.requireRoot(), segments, false);
    if (parent === undefined) return;
    try {
      const to = conflictPath.split('/').pop() ?? '';
      if ((await parent.lstat(segments[segments.length - 1] ?? '')) === undefined) return;
      await parent.rename(segments[segments.length - 1] ?? '', to);
      await parent.sync();
    } finally {
      await parent.close();
    }
  }

  /** Whether what is on disk is what the index last saw (so replacing it loses nothing). */
  private unchanged(entry: IndexEntry | undefined, st: Stats): boolean {
    if (entry === undefined || entry.record.deleted || entry.stamp === undefined) return false;
    if (st.isDirectory()) return entry.record.kind === 'dir' && entry.stamp.ino === st.ino;
    return sameStamp(entry.stamp, stampOf(st));
  }

  private changed(paths: readonly string[]): void {
    for (const p of paths) this.pendingPaths.add(p);
    if (this.settleTimer !== undefined) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      const everything = this.pendingPaths.has('');
      const batch = [...this.pendingPaths];
      this.pendingPaths = new Set();
      (everything ? this.rescanAll() : this.scanPaths(batch)).catch((err: unknown) => {
        this.failed('scan', err);
      });
    }, SETTLE_MS);
  }

  private async sweepTemp(dir: Dir): Promise<void> {
    for (const name of await dir.list()) {
      const st = await dir.lstat(name);
      if (name.startsWith(TEMP_PREFIX) && st?.isFile() === true) await dir.unlink(name);
      else if (name.startsWith(TEMP_PREFIX) && st?.isSymbolicLink() === true)
        await dir.unlink(name);
      else if (st?.isDirectory() === true) {
        const sub = await dir.dir(name).catch(() => undefined);
        if (sub === undefined) continue;
        try {
          await this.sweepTemp(sub);
        } finally {
          await sub.close();
        }
      }
    }
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * A rename becomes durable with its directory's fsync. That waits for the next save, which
   * fsyncs every directory written first: the index (and each cursor) says a file is here only
   * once its rename is on disk, and a directory that takes many files costs one fsync, not one
   * each. A crash before leaves the file old or new, never torn; a new one the index does not
   * know yet is found by the next scan, with the member's content, and merges without a copy.
   */
  private async syncLater(parent: Dir, path: string): Promise<void> {
    const key = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    if (this.unsynced.has(key)) return;
    // Set before any await: files applied at once into one directory hold it once.
    const held = parent.duplicate();
    this.unsynced.set(key, held);
    await held;
    if (this.unsynced.size >= MAX_UNSYNCED_DIRS) await this.syncDirs();
    this.scheduleSave();
  }

  private async syncDirs(): Promise<void> {
    const dirs = [...this.unsynced.values()];
    this.unsynced.clear();
    await Promise.all(
      dirs.map(async (held) => {
        const dir = await held;
        try {
          await dir.sync();
        } finally {
          await dir.close();
        }
      }),
    );
  }

  private scheduleSave(): void {
    if (this.saveTimer !== undefined) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.save().catch((err: unknown) => {
        this.failed('save', err);
      });
    }, SAVE_DELAY_MS);
  }

  private async save(): Promise<void> {
    await this.syncDirs();
    await this.index.save(this.options.indexFile);
  }

  private failed(what: string, err: unknown): void {
    if (this.closed && hasCode(err, 'EBADF')) return;
    this.options.log.warn(`sync ${what} failed`, {
      app: this.app,
      target: this.target,
      error: messageOf(err),
    });
  }

  /**
   * Members are served only once the index is loaded and the volume scanned: a long poll parked
   * on the placeholder index before that would never hear of a change.
   */
  private requireStarted(): void {
    if (!this.started) {
      throw new UnavailableError(`sync: ${this.app}'s volume ${this.target} is still starting`);
    }
  }

  private requireRoot(): Dir {
    if (this.root === undefined) throw new UnavailableError('sync: the volume is not open yet');
    return this.root;
  }
}

/** Whether the scanner records this entry (files, directories and links inside the volume). */
async function indexable(parent: Dir, name: string, path: string, st: Stats): Promise<boolean> {
  if (st.isFile() || st.isDirectory()) return true;
  if (!st.isSymbolicLink()) return false;
  const target = await parent.readlink(name).catch(() => '');
  return linkStaysInside(path, target);
}

/** Whether two paths are the same, or one is inside the other. */
function related(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}
