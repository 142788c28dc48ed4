/** Desired state on disk: one atomically written, validated file per app. */
export { AppStore, type AppStoreOptions } from './app-store';
export { writeFileAtomic } from './atomic-write';
export type { AppRecord, StateFs } from './types';
