import { InvalidInputError, UnavailableError } from '../errors';
import { TurnBatch } from '../turn-batch';
import { MAX_FETCH_FILES, type SyncPeer, type WholeFile } from './transfer';

interface Waiter {
  path: string;
  resolve(file: WholeFile): void;
  reject(err: unknown): void;
}

/**
 * A round's small files asked of a member together: the files asked for in one turn of the
 * event loop (a round applies many at once) go as one FetchFiles stream of up to
 * MAX_FETCH_FILES, instead of a stream each. Each caller gets its own file, or its own failure.
 */
export class FileBatch {
  private readonly batches = new TurnBatch<Waiter>(MAX_FETCH_FILES, (batch) => {
    void this.send(batch);
  });

  constructor(
    private readonly peer: SyncPeer,
    private readonly signal: AbortSignal,
  ) {}

  get(path: string): Promise<WholeFile> {
    return new Promise((resolve, reject) => {
      this.batches.add({ path, resolve, reject });
    });
  }

  private async send(batch: Waiter[]): Promise<void> {
    const answered = new Set<number>();
    try {
      const paths = batch.map((w) => w.path);
      for await (const file of this.peer.fetchFiles(paths, this.signal)) {
        const waiter = batch[file.index];
        if (waiter === undefined || answered.has(file.index)) {
          throw new InvalidInputError(`sync fetch: a second answer for path ${file.index}`);
        }
        answered.add(file.index);
        waiter.resolve(file);
      }
      batch.forEach((waiter, i) => {
        if (!answered.has(i)) {
          waiter.reject(new UnavailableError(`sync: the fetch of ${waiter.path} broke off`));
        }
      });
    } catch (err) {
      batch.forEach((waiter, i) => {
        if (!answered.has(i)) waiter.reject(err);
      });
    }
  }
}
