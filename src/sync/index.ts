/**
 * Volume sync: every rw volume of an app kept the same on every node that runs the app. Each
 * node indexes its copy (version vectors per path, tombstones, a sequence feed), members pull
 * each other's feeds and fetch files as rsync deltas, and every write lands by temp file, fsync
 * and rename. See the README's "Volume sync".
 */
export { blockSizeFor, signatureOf, type Signature } from './signature';
export { deltaOf, MAX_LITERAL_BYTES, type DeltaOp } from './delta';
export { applyDelta, type PatchBasis, type PatchTarget } from './patch';
export { RebuiltFile } from './rebuilt-file';
export { SyncEngine, type SyncEngineSources, type SyncMember, type SyncVolumeSpec } from './engine';
export { SyncClient } from './sync-client';
export { syncService } from './sync-service';
export type { PeerStatus, VolumeSyncStatus } from './volume-sync';
