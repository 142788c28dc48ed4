import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { TurnBatch } from '../turn-batch';
import type { Dir } from './beneath';
import { asError } from './errno';
import {
  runJob,
  type EntryStat,
  type FileJob,
  type Inspected,
  type JobResult,
  type Meta,
  type PlaceItem,
  type Placed,
  type SmallRead,
} from './file-work';

export { entryStatOf, sameMeta } from './file-work';
export type { EntryStat, Inspected, Meta, PlaceItem, Placed, SmallRead } from './file-work';

/** A placeNew call waiting for its batch. */
interface Placing {
  root: Dir;
  item: PlaceItem;
  resolve(placed: Placed): void;
  reject(err: Error): void;
}

export interface WorkerRequest {
  id: number;
  job: FileJob;
}

export interface WorkerReply {
  id: number;
  result?: JobResult;
  error?: { message: string; code?: string };
}

/**
 * Threads at most. Jobs block on fsync, so more than one runs at a time; but each thread is a V8
 * isolate (about 10 MB), and jobs come in batches: 10,000 small files synced as fast with two
 * threads as with four, and the agent's RSS while 1 GiB synced was 20 MB lower (bench/sync.ts).
 */
const DEFAULT_THREADS = 2;
/** placeNew calls gathered into one job at most (see placeNew). */
const MAX_PLACE_BATCH = 64;

/**
 * Whole file jobs (write a small file and put it in place; read a small file; look at many
 * paths) done in blocking calls on worker threads, one message each way per job. The same work
 * through fs/promises is a dozen trips through libuv's pool, each waking a thread and then the
 * event loop; on a virtual machine where a wake-up is dear, syncing 10,000 small files spent
 * most of its time there (see bench/README.md). The main thread keeps the decisions: it opens
 * the directories (Dir) and names what a job touches; a job only ever resolves names beneath a
 * descriptor the caller holds open until the job is done, never through a symlink.
 */
export class FileJobs {
  /** placeNew calls gathered in one turn of the event loop, a job per root. */
  private readonly placing = new TurnBatch<Placing>(MAX_PLACE_BATCH, (batch) => {
    this.place(batch);
  });

  private constructor(
    private readonly run: (job: FileJob) => Promise<JobResult>,
    /** Whether jobs run on worker threads (false when `threads` found no worker script). */
    readonly threaded = false,
    private readonly closePool: () => Promise<void> = () => Promise.resolve(),
  ) {}

  /** Jobs run on this thread, one call after another (unit tests, tools). */
  static inline(): FileJobs {
    return new FileJobs((job) => {
      try {
        return Promise.resolve(runJob(job));
      } catch (err) {
        return Promise.reject(asError(err));
      }
    });
  }

  /**
   * Jobs run on up to `size` worker threads started when first needed. `script` is the built
   * worker (file-worker.js beside this module by default); from TypeScript sources, where there
   * is none, jobs run inline.
   */
  static threads(options: { size?: number; script?: string } = {}): FileJobs {
    const script = options.script ?? join(__dirname, 'file-worker.js');
    if (!existsSync(script)) return FileJobs.inline();
    const pool = new ThreadPool(script, options.size ?? DEFAULT_THREADS);
    return new FileJobs(
      (job) => pool.run(job),
      true,
      () => pool.close(),
    );
  }

  /**
   * The regular file at `segments` beneath `root`, read whole when it holds at most `maxBytes`,
   * with its metadata before and after the read; 'gone' when it is missing or not a regular
   * file (a symlink at any level included), 'large' when it is larger.
   */
  async readSmall(
    root: Dir,
    segments: readonly string[],
    maxBytes: number,
    hash?: string,
  ): Promise<SmallRead> {
    const [read] = await this.readFiles(root, [segments], maxBytes, hash);
    if (read === undefined) throw new Error('file jobs: no answer to a read');
    return read;
  }

  /** readSmall of several files in one job, each hashed with `hash` (a node:crypto name). */
  async readFiles(
    root: Dir,
    paths: readonly (readonly string[])[],
    maxBytes: number,
    hash?: string,
  ): Promise<SmallRead[]> {
    checkNames(root, paths);
    const job: FileJob = { op: 'read', root: root.path, paths: paths.map((p) => [...p]), maxBytes };
    if (hash !== undefined) job.hash = hash;
    const result = await this.run(job);
    if (result.op !== 'read') throw new Error(`file jobs: a ${result.op} answer to a read`);
    return result.reads;
  }

  /**
   * Writes a new small file beneath `root` (see PlaceItem) without replacing anything: the
   * calls made in one turn of the event loop go as one job (up to MAX_PLACE_BATCH), whose
   * files share their fsyncs' journal commits (see file-work's placeNew). The caller keeps
   * `root` open until its call is over.
   */
  placeNew(root: Dir, item: PlaceItem): Promise<Placed> {
    checkNames(root, [item.segments, [item.temp]]);
    return new Promise((resolve, reject) => {
      this.placing.add({ root, item, resolve, reject });
    });
  }

  private place(batch: Placing[]): void {
    const roots = new Map<string, Placing[]>();
    for (const call of batch) {
      const same = roots.get(call.root.path);
      if (same === undefined) roots.set(call.root.path, [call]);
      else same.push(call);
    }
    for (const [root, calls] of roots) {
      this.run({ op: 'placeNew', root, items: calls.map((c) => c.item) }).then(
        (result) => {
          calls.forEach((call, i) => {
            const placed = result.op === 'placeNew' ? result.placed[i] : undefined;
            if (placed === undefined) call.reject(new Error('file jobs: no answer to a place'));
            else call.resolve(placed);
          });
        },
        (err: unknown) => {
          const error = asError(err);
          for (const call of calls) call.reject(error);
        },
      );
    }
  }

  /** The metadata of each path beneath `root` (undefined when it cannot be reached). */
  async lstatAll(
    root: Dir,
    paths: readonly (readonly string[])[],
  ): Promise<(EntryStat | undefined)[]> {
    checkNames(root, paths);
    const result = await this.run({
      op: 'lstat',
      root: root.path,
      paths: paths.map((p) => [...p]),
    });
    if (result.op !== 'lstat') throw new Error(`file jobs: a ${result.op} answer to an lstat`);
    return result.stats;
  }

  /**
   * The entries `names` of `dir`: each one's own metadata, a symlink's target, and (with
   * `hash`, a node:crypto algorithm) a regular file's digest, read through a descriptor that is
   * still that entry (unless its metadata is `skipIf`: unchanged since it was last read).
   */
  async inspect(
    dir: Dir,
    entries: readonly { name: string; skipIf?: Meta }[],
    hash?: string,
  ): Promise<Inspected[]> {
    checkNames(
      dir,
      entries.map(({ name }) => [name]),
    );
    const job: FileJob = { op: 'inspect', dir: dir.path, entries: [...entries] };
    if (hash !== undefined) job.hash = hash;
    const result = await this.run(job);
    if (result.op !== 'inspect') throw new Error(`file jobs: a ${result.op} answer to an inspect`);
    return result.entries;
  }

  /** Stops the threads; jobs still running fail. */
  close(): Promise<void> {
    return this.closePool();
  }
}

interface Thread {
  worker: Worker;
  pending: Map<number, { resolve(result: JobResult): void; reject(err: Error): void }>;
}

class ThreadPool {
  private readonly threads: Thread[] = [];
  private nextId = 1;

  constructor(
    private readonly script: string,
    private readonly size: number,
  ) {}

  run(job: FileJob): Promise<JobResult> {
    const thread = this.pick();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      const request: WorkerRequest = { id, job };
      thread.worker.postMessage(request);
      thread.worker.ref();
    });
  }

  async close(): Promise<void> {
    const threads = this.threads.splice(0);
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  /** The least busy thread, or a new one while all are busy and there is room. */
  private pick(): Thread {
    let best: Thread | undefined;
    for (const thread of this.threads) {
      if (best === undefined || thread.pending.size < best.pending.size) best = thread;
    }
    if (best !== undefined && (best.pending.size === 0 || this.threads.length >= this.size)) {
      return best;
    }
    return this.start();
  }

  private start(): Thread {
    const thread: Thread = { worker: new Worker(this.script), pending: new Map() };
    const fail = (err: Error): void => {
      const index = this.threads.indexOf(thread);
      if (index >= 0) this.threads.splice(index, 1);
      for (const waiter of thread.pending.values()) waiter.reject(err);
      thread.pending.clear();
    };
    // Our own worker, from the same build: its replies are WorkerReply.
    thread.worker.on('message', (reply: WorkerReply) => {
      const waiter = thread.pending.get(reply.id);
      if (waiter === undefined) return;
      thread.pending.delete(reply.id);
      // An idle thread does not keep the process alive.
      if (thread.pending.size === 0) thread.worker.unref();
      if (reply.result !== undefined) waiter.resolve(reply.result);
      else waiter.reject(errorOf(reply.error));
    });
    thread.worker.on('error', fail);
    thread.worker.on('exit', (code) => {
      fail(new Error(`file jobs: a worker thread exited (code ${code})`));
    });
    thread.worker.unref();
    this.threads.push(thread);
    return thread;
  }
}

/** Every segment is a plain name (Dir.at throws InvalidInputError otherwise): '..' never climbs. */
function checkNames(dir: Dir, paths: readonly (readonly string[])[]): void {
  for (const segments of paths) for (const segment of segments) dir.at(segment);
}

/** A worker's failure as an Error with the system error code that hasCode looks at. */
function errorOf(error: WorkerReply['error']): Error {
  const err: Error & { code?: string } = new Error(error?.message ?? 'file jobs: no answer');
  if (error?.code !== undefined) err.code = error.code;
  return err;
}
