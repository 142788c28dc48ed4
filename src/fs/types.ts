import type * as fsp from 'node:fs/promises';

/** The file operations of atomic writes and the stores on them; injected in tests to simulate
 * failures and crashes. */
export type FsOps = Pick<
  typeof fsp,
  'mkdir' | 'chmod' | 'open' | 'rename' | 'readFile' | 'readdir' | 'unlink'
>;
