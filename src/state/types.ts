import type * as fsp from 'node:fs/promises';
import type { App } from '../bundle/types';

/** Desired state of one app as persisted: the app and how many replicas it should run. */
export interface AppRecord {
  app: App;
  scale: number;
  updatedMs: number;
}

/** The file operations the store uses; injected in tests to simulate failures and crashes. */
export type StateFs = Pick<
  typeof fsp,
  'mkdir' | 'chmod' | 'open' | 'rename' | 'readFile' | 'readdir' | 'unlink'
>;
