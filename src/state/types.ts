import type * as fsp from 'node:fs/promises';

/** The store persists the orchestrator's desired state, so it takes the orchestrator's shape. */
export type { AppRecord } from '../orchestrator/types';

/** The file operations the store uses; injected in tests to simulate failures and crashes. */
export type StateFs = Pick<
  typeof fsp,
  'mkdir' | 'chmod' | 'open' | 'rename' | 'readFile' | 'readdir' | 'unlink'
>;
