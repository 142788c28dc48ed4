/**
 * File-system helpers every room shares: atomic replacement of a file (temp, fsync, rename, fsync
 * the directory) and Node error codes.
 */
export { isTempFile, syncDir, writeFileAtomic } from './atomic-write';
export { Dir, openBeneath, parentOf } from './beneath';
export {
  entryStatOf,
  FileJobs,
  sameMeta,
  type EntryStat,
  type Inspected,
  type Meta,
  type SmallRead,
} from './file-jobs';
export { asError, codeOf, hasCode } from './errno';
export { secondsOf } from './times';
export type { FsOps } from './types';
