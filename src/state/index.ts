/** Desired state on disk: one atomically written, validated file per app. */
export { AppStore, type AppStoreOptions } from './app-store';
export type { AppRecord } from './types';
