/**
 * File-system helpers every room shares: atomic replacement of a file (temp, fsync, rename, fsync
 * the directory) and Node error codes.
 */
export { isTempFile, syncDir, writeFileAtomic } from './atomic-write';
export { Dir, parentOf } from './beneath';
export { hasCode } from './errno';
export type { FsOps } from './types';
