import type { Stats } from 'node:fs';
import { constants } from 'node:fs';
import {
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  rename,
  rmdir,
  symlink,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { InvalidInputError } from '../errors';
import { hasCode } from './errno';

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * A directory held open, and every operation on a name in it resolved through the held
 * descriptor (`/proc/self/fd/N/name`: the kernel resolves the magic link to the very directory
 * that was opened, not to whatever its path names now). Node has no openat; this is the same
 * guarantee. A tree that a container writes to at the same time cannot redirect the agent: a
 * directory swapped for a symlink between a check and a use is refused (O_NOFOLLOW), never
 * followed out of the volume.
 */
export class Dir {
  private constructor(
    private readonly handle: FileHandle,
    /** For messages only. */
    readonly label: string,
  ) {}

  /** Opens a root directory by path (the path itself may go through symlinks: it is trusted). */
  static async open(path: string): Promise<Dir> {
    return new Dir(await open(path, constants.O_RDONLY | constants.O_DIRECTORY), path);
  }

  /** This directory as a path the kernel resolves through the held descriptor. */
  get path(): string {
    return `/proc/self/fd/${this.handle.fd}`;
  }

  /** `name` in this directory as a path the kernel resolves through the held descriptor. */
  at(name: string): string {
    checkName(name);
    return `/proc/self/fd/${this.handle.fd}/${name}`;
  }

  /** A subdirectory, never through a symlink. */
  async dir(name: string): Promise<Dir> {
    return new Dir(await open(this.at(name), DIR_FLAGS), `${this.label}/${name}`);
  }

  /** A subdirectory, created (0755) when missing. */
  async ensureDir(name: string): Promise<Dir> {
    // Opened first: it is there nearly always, and a failed call (an error built with its
    // stack) costs more than the call itself.
    try {
      return await this.dir(name);
    } catch (err) {
      if (!hasCode(err, 'ENOENT')) throw err;
    }
    try {
      await mkdir(this.at(name), { mode: 0o755 });
    } catch (err) {
      if (!hasCode(err, 'EEXIST')) throw err;
    }
    return this.dir(name);
  }

  /**
   * Opens a file in this directory, never through a symlink, and without blocking: a fifo put
   * where a file was would otherwise hold a thread of the pool until a writer comes (callers
   * fstat what they opened and refuse anything but a regular file).
   */
  file(name: string, flags: number, mode = 0o600): Promise<FileHandle> {
    const always = constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;
    return open(this.at(name), flags | always, mode);
  }

  list(): Promise<string[]> {
    return readdir(this.path);
  }

  /** The entry's own metadata (a symlink is not followed); undefined when it does not exist. */
  async lstat(name: string): Promise<Stats | undefined> {
    try {
      return await lstat(this.at(name));
    } catch (err) {
      if (hasCode(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  readlink(name: string): Promise<string> {
    return readlink(this.at(name));
  }

  symlink(target: string, name: string): Promise<void> {
    return symlink(target, this.at(name));
  }

  /** Renames within this directory: an existing file or link at `to` is replaced atomically. */
  rename(from: string, to: string): Promise<void> {
    return rename(this.at(from), this.at(to));
  }

  /** Removes a file or link; false when it was already gone. */
  async unlink(name: string): Promise<boolean> {
    try {
      await unlink(this.at(name));
      return true;
    } catch (err) {
      if (hasCode(err, 'ENOENT')) return false;
      throw err;
    }
  }

  /** Removes an empty directory; false when it was gone or is not empty. */
  async rmdir(name: string): Promise<boolean> {
    try {
      await rmdir(this.at(name));
      return true;
    } catch (err) {
      if (hasCode(err, 'ENOENT') || hasCode(err, 'ENOTEMPTY') || hasCode(err, 'EEXIST')) {
        return false;
      }
      throw err;
    }
  }

  /** A second handle on the same directory, to be closed on its own. */
  async duplicate(): Promise<Dir> {
    // Not O_NOFOLLOW: the fd link is the final component here, and it is to be followed.
    const flags = constants.O_RDONLY | constants.O_DIRECTORY;
    return new Dir(await open(`/proc/self/fd/${this.handle.fd}`, flags), this.label);
  }

  /** Sets this directory's own mode (through the descriptor: never a symlink's target). */
  chmod(mode: number): Promise<void> {
    return this.handle.chmod(mode);
  }

  stat(): Promise<Stats> {
    return this.handle.stat();
  }

  /** Makes renames and creations in this directory durable. */
  sync(): Promise<void> {
    return this.handle.sync();
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

/**
 * The parent directory of a relative path's last segment, opened level by level from `root`
 * without following a symlink at any level; `create` makes missing levels. Undefined when a
 * level is missing (and not created) or is not a directory. The caller closes it.
 */
export async function parentOf(
  root: Dir,
  segments: readonly string[],
  create: boolean,
): Promise<Dir | undefined> {
  let dir = root;
  try {
    for (const segment of segments.slice(0, -1)) {
      let next: Dir;
      try {
        next = create ? await dir.ensureDir(segment) : await dir.dir(segment);
      } catch (err) {
        // Missing, a file, or a symlink (ELOOP under O_NOFOLLOW): not a way down.
        if (hasCode(err, 'ENOENT') || hasCode(err, 'ENOTDIR') || hasCode(err, 'ELOOP')) {
          if (dir !== root) await dir.close();
          return undefined;
        }
        throw err;
      }
      if (dir !== root) await dir.close();
      dir = next;
    }
  } catch (err) {
    if (dir !== root) await dir.close();
    throw err;
  }
  // The root itself is the caller's: hand back a handle of our own so that closing is uniform.
  return dir === root ? root.duplicate() : dir;
}

/**
 * The file at a relative path beneath `root`, opened read-only without following a symlink at
 * any level; undefined when it is not there (a level missing or not a directory, or a symlink
 * where the file was). The caller fstats what it got, and closes it.
 */
export async function openBeneath(
  root: Dir,
  segments: readonly string[],
): Promise<FileHandle | undefined> {
  const parent = await parentOf(root, segments, false);
  if (parent === undefined) return undefined;
  try {
    return await parent.file(segments[segments.length - 1] ?? '', constants.O_RDONLY);
  } catch (err) {
    if (hasCode(err, 'ENOENT') || hasCode(err, 'ELOOP')) return undefined;
    throw err;
  } finally {
    await parent.close();
  }
}

function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new InvalidInputError(`path segment ${JSON.stringify(name)}: not a file name`);
  }
}
