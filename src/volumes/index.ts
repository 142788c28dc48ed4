/**
 * One-time copies of an app's rw volumes between members (`budgie chirp ID`): the sender walks
 * the volume without following links out of it, the receiver writes it file by file atomically.
 */
export { checkEntryPath, linkStaysInside } from './paths';
export { CHUNK_BYTES, readSnapshot } from './snapshot-reader';
export { SnapshotWriter, type SnapshotStats } from './snapshot-writer';
export type { SnapshotItem, VolumeEntry, VolumeEntryKind } from './snapshot-types';
export { fromSnapshotResponse, toSnapshotResponse } from './snapshot-wire';
export { volumeService, type RwVolumeSource } from './volume-service';
export { VolumeClient } from './volume-client';
