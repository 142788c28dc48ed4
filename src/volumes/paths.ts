import { posix } from 'node:path';
import { InvalidInputError } from '../errors';

/**
 * An entry's path as a member sends it: relative to the volume's root, '/'-separated, with no
 * empty, '.' or '..' segment. Checked on both sides: the sender never produces anything else, and
 * the receiver must not let a peer write outside the volume whatever it sends.
 */
export function checkEntryPath(path: string): string[] {
  if (path === '' || path.startsWith('/') || path.includes('\0') || path.includes('\\')) {
    throw new InvalidInputError(`volume entry path ${JSON.stringify(path)}: not a relative path`);
  }
  const segments = path.split('/');
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..') {
      throw new InvalidInputError(
        `volume entry path ${JSON.stringify(path)}: has an empty, '.' or '..' segment`,
      );
    }
  }
  return segments;
}

/**
 * Whether a symlink at `linkPath` (an entry path) pointing at `target` stays inside the volume: a
 * relative target that, resolved lexically from the link's directory, does not climb out. An
 * absolute target would point into the host's (or container's) own tree, so it never qualifies.
 */
export function linkStaysInside(linkPath: string, target: string): boolean {
  if (target === '' || target.startsWith('/') || target.includes('\0')) return false;
  const resolved = posix.normalize(posix.join(posix.dirname(linkPath), target));
  return resolved !== '..' && !resolved.startsWith('../') && !resolved.startsWith('/');
}
