import { statfs } from 'node:fs/promises';
import { UnavailableError } from '../errors';

/** Space left free on the volume's file system, at the least: containerd and the agent need it. */
const MIN_FREE_BYTES = 512 * 1024 * 1024;
/** ...or this share of the file system, whichever is more. */
const MIN_FREE_SHARE = 0.02;
/** Small files are let through on the last reading until this many of their bytes add up. */
const UNCHECKED_BYTES = 64 * 1024 * 1024;

/** The file system's numbers, as statfs gives them (a fake in tests). */
export type StatFs = (dir: string) => Promise<{ bsize: number; blocks: number; bavail: number }>;

/**
 * Keeps volume sync from filling the disk: a member can announce a file of any size, and the
 * receiver writes what it announced. A fetch asks first; one that would leave less than the floor
 * free is refused with a clear error (the round fails and is retried, `budgie sync status` shows
 * why), whatever the member says. statfs is asked again once 64 MiB have been let through since
 * the last reading (at once for a file that large), so at most that much goes unchecked, well
 * inside the floor.
 */
export class FreeSpace {
  private unchecked = Infinity;

  constructor(
    private readonly dir: string,
    private readonly stat: StatFs = statfs,
  ) {}

  async reserve(bytes: number, path: string): Promise<void> {
    this.unchecked += bytes;
    if (this.unchecked < UNCHECKED_BYTES) return;
    this.unchecked = 0;
    const st = await this.stat(this.dir);
    const floor = Math.max(MIN_FREE_BYTES, st.blocks * st.bsize * MIN_FREE_SHARE);
    const free = st.bavail * st.bsize;
    if (free - bytes < floor) {
      // Checked again next time: space may have been freed meanwhile.
      this.unchecked = Infinity;
      throw new UnavailableError(
        `sync: no room for ${path} (${bytes} bytes): ${free} bytes free on the volume's disk, and ${Math.ceil(floor)} are kept free`,
      );
    }
  }
}
