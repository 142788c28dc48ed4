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
 * Whether a symlink at `linkPath` (an entry path) pointing at `target` stays inside the volume
 * however the links in it chain: a relative target whose '..' segments all come first and climb
 * no higher than the link's own directory, followed by names only. The directories a link sits
 * in are real ones (the agent places it through them without following any link), so leading
 * '..'s climb real parents; a '..' after a name could climb out of a link (`d -> .` makes
 * `d/..` the volume's parent), so it never qualifies, and neither does an absolute target, which
 * points into the host's (or container's) own tree.
 */
export function linkStaysInside(linkPath: string, target: string): boolean {
  if (target === '' || target.startsWith('/') || target.includes('\0')) return false;
  const segments = target.split('/').filter((s) => s !== '' && s !== '.');
  let up = 0;
  while (segments[up] === '..') up++;
  if (segments.slice(up).includes('..')) return false;
  return up <= linkPath.split('/').length - 1;
}
