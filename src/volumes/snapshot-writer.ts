import type { FileHandle } from 'node:fs/promises';
import {
  chmod,
  lstat,
  lutimes,
  mkdir,
  mkdtemp,
  open,
  readdir,
  rename,
  rm,
  symlink,
  utimes,
} from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InvalidInputError } from '../errors';
import { checkEntryPath, linkStaysInside } from './paths';
import type { SnapshotItem, VolumeEntry } from './snapshot-types';

export interface SnapshotStats {
  files: number;
  bytes: number;
  dirs: number;
  symlinks: number;
}

interface PendingFile {
  entry: VolumeEntry;
  temp: string;
  fh: FileHandle;
  written: number;
}

/**
 * Writes a volume snapshot into `root` as it arrives. Each file is written to a temp dir beside
 * the root and renamed into place once complete, so the volume never holds a half-written file,
 * even when the copy breaks off. Files in the snapshot overwrite what is there; anything else in
 * the root is kept. Every entry is checked: no path may leave the root, neither lexically nor
 * through a symlink already on disk, and links may only point inside the volume.
 */
export class SnapshotWriter {
  readonly stats: SnapshotStats = { files: 0, bytes: 0, dirs: 0, symlinks: 0 };
  private temp: string | undefined;
  private pending: PendingFile | undefined;
  private seq = 0;
  /** Directories' modes and mtimes are set last: writing their children would change them. */
  private readonly dirs: VolumeEntry[] = [];

  private constructor(readonly root: string) {}

  /** Creates the root if missing; `hadData` says whether it already held anything. */
  static async open(root: string): Promise<{ writer: SnapshotWriter; hadData: boolean }> {
    await mkdir(root, { recursive: true, mode: 0o755 });
    const hadData = (await readdir(root)).length > 0;
    const writer = new SnapshotWriter(root);
    // Beside the root, not in it: same filesystem for rename, and never visible in the volume.
    writer.temp = await mkdtemp(join(dirname(root), `.${basename(root)}.snapshot-`));
    return { writer, hadData };
  }

  async write(item: SnapshotItem): Promise<void> {
    if ('data' in item) {
      await this.data(item.data);
      return;
    }
    if (this.pending !== undefined) {
      throw new InvalidInputError(
        `volume snapshot: ${this.pending.entry.path} ended after ${this.pending.written} of ${this.pending.entry.size} bytes`,
      );
    }
    await this.entry(item.entry);
  }

  /** Checks that nothing is left half-sent and sets the directories' modes and mtimes. */
  async finish(): Promise<SnapshotStats> {
    if (this.pending !== undefined) {
      throw new InvalidInputError(
        `volume snapshot: ${this.pending.entry.path} ended after ${this.pending.written} of ${this.pending.entry.size} bytes`,
      );
    }
    // Deepest first, so that a read-only parent is set after its children are done.
    for (const dir of [...this.dirs].reverse()) {
      const abs = join(this.root, dir.path);
      await chmod(abs, dir.mode);
      await utimes(abs, dir.mtimeMs / 1000, dir.mtimeMs / 1000);
    }
    await this.close();
    return this.stats;
  }

  /** Drops the temp dir and any half-written file; what was renamed into place stays. */
  async close(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    await pending?.fh.close().catch(() => undefined);
    if (this.temp !== undefined) await rm(this.temp, { recursive: true, force: true });
    this.temp = undefined;
  }

  private async entry(entry: VolumeEntry): Promise<void> {
    const segments = checkEntryPath(entry.path);
    await this.checkParents(segments);
    const dest = join(this.root, ...segments);
    const mode = entry.mode & 0o7777;
    switch (entry.kind) {
      case 'dir': {
        const existing = await lstatOrUndefined(dest);
        if (existing !== undefined && !existing.isDirectory()) await rm(dest, { force: true });
        if (existing === undefined || !existing.isDirectory()) await mkdir(dest, { mode: 0o700 });
        this.dirs.push({ ...entry, mode });
        this.stats.dirs++;
        return;
      }
      case 'symlink': {
        if (!linkStaysInside(entry.path, entry.linkTarget)) {
          throw new InvalidInputError(
            `volume snapshot: symlink ${entry.path} points outside the volume (${entry.linkTarget})`,
          );
        }
        const temp = this.tempName();
        await symlink(entry.linkTarget, temp);
        await lutimes(temp, entry.mtimeMs / 1000, entry.mtimeMs / 1000);
        await this.place(temp, dest);
        this.stats.symlinks++;
        return;
      }
      case 'file': {
        if (!Number.isSafeInteger(entry.size) || entry.size < 0) {
          throw new InvalidInputError(`volume snapshot: ${entry.path} has size ${entry.size}`);
        }
        const temp = this.tempName();
        const fh = await open(temp, 'wx', 0o600);
        this.pending = { entry: { ...entry, mode }, temp, fh, written: 0 };
        if (entry.size === 0) await this.complete();
        return;
      }
    }
  }

  private async data(chunk: Uint8Array): Promise<void> {
    const pending = this.pending;
    if (pending === undefined) {
      throw new InvalidInputError('volume snapshot: data without a file entry before it');
    }
    if (pending.written + chunk.byteLength > pending.entry.size) {
      throw new InvalidInputError(
        `volume snapshot: ${pending.entry.path} got more than its ${pending.entry.size} bytes`,
      );
    }
    await pending.fh.write(chunk);
    pending.written += chunk.byteLength;
    this.stats.bytes += chunk.byteLength;
    if (pending.written === pending.entry.size) await this.complete();
  }

  private async complete(): Promise<void> {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    const { entry } = pending;
    try {
      await pending.fh.chmod(entry.mode);
      await pending.fh.utimes(entry.mtimeMs / 1000, entry.mtimeMs / 1000);
      await pending.fh.sync();
    } finally {
      await pending.fh.close();
    }
    // The parents were checked when the entry came; checked again, as the file took a while.
    const segments = checkEntryPath(entry.path);
    await this.checkParents(segments);
    await this.place(pending.temp, join(this.root, ...segments));
    this.stats.files++;
  }

  /** Renames into place; a directory where the snapshot has a file or link gives way to it. */
  private async place(temp: string, dest: string): Promise<void> {
    const existing = await lstatOrUndefined(dest);
    if (existing?.isDirectory() === true) await rm(dest, { recursive: true, force: true });
    await rename(temp, dest);
  }

  /** Every parent of an entry must be a real directory under the root, never a symlink. */
  private async checkParents(segments: string[]): Promise<void> {
    let abs = this.root;
    for (const segment of segments.slice(0, -1)) {
      abs = join(abs, segment);
      const st = await lstatOrUndefined(abs);
      if (st === undefined || !st.isDirectory()) {
        throw new InvalidInputError(
          `volume snapshot: ${segments.join('/')}: ${abs} is not a directory in the volume`,
        );
      }
    }
  }

  private tempName(): string {
    if (this.temp === undefined) throw new InvalidInputError('volume snapshot: writer is closed');
    return join(this.temp, String(this.seq++));
  }
}

async function lstatOrUndefined(
  path: string,
): Promise<Awaited<ReturnType<typeof lstat>> | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
