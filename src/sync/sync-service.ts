import { SyncServiceService, type SyncServiceServer } from '../gen/budgie/peer/v1/sync';
import { InvalidInputError, messageOf } from '../errors';
import type { Logger } from '../log';
import { callerOf } from '../peer/auth';
import { serverStream, unary, type ServiceBinding } from '../rpc/handlers';
import type { NodeIdentity } from '../trust/identity';
import { checkEntryPath } from '../volumes/paths';
import {
  fromWireSignature,
  toFetchFilesResponse,
  toFetchResponse,
  toWireRecord,
} from './sync-wire';
import { MAX_FETCH_FILES } from './transfer';
import type { VolumeSync } from './volume-sync';

export interface SyncVolumes {
  /**
   * The volume a member may sync: an rw volume at `target` of `app` that this node syncs, and
   * `caller` runs the app too. Throws NotFoundError or PermissionDeniedError otherwise.
   */
  volumeFor(caller: string, app: string, target: string): VolumeSync;
}

/**
 * budgie.peer.v1.SyncService: members that run an app pull its rw volumes' changes from here.
 * Members only (the server's interceptor, and `callerOf` again here), and only for apps the
 * caller runs itself: a member never reads another app's data, nor anything outside rw volumes.
 */
export function syncService(
  identity: () => NodeIdentity,
  volumes: SyncVolumes,
  log: Logger,
): ServiceBinding {
  const implementation: SyncServiceServer = {
    changes: unary(log, 'Changes', async (req, signal, call) => {
      const caller = callerOf(call, identity().caCertPem);
      const volume = volumes.volumeFor(caller.nodeId, req.app, req.target);
      const answer = await volume.changes(
        { since: req.since, epoch: req.epoch, limit: req.limit, waitMs: req.waitMs },
        signal,
        caller.nodeId,
      );
      return { ...answer, records: answer.records.map(toWireRecord) };
    }),
    fetch: serverStream(log, 'Fetch', async (req, send, signal, call) => {
      const caller = callerOf(call, identity().caCertPem);
      const volume = volumes.volumeFor(caller.nodeId, req.app, req.target);
      refuseForged(log, caller.nodeId, req.path);
      for await (const item of volume.read(req.path, fromWireSignature(req), signal)) {
        if (signal.aborted) return;
        await send(toFetchResponse(item));
      }
    }),
    fetchFiles: serverStream(log, 'FetchFiles', async (req, send, signal, call) => {
      const caller = callerOf(call, identity().caCertPem);
      const volume = volumes.volumeFor(caller.nodeId, req.app, req.target);
      if (req.paths.length > MAX_FETCH_FILES) {
        throw new InvalidInputError(
          `paths: ${req.paths.length} in one FetchFiles (at most ${MAX_FETCH_FILES})`,
        );
      }
      for (const path of req.paths) refuseForged(log, caller.nodeId, path);
      for await (const file of volume.readFiles(req.paths, signal)) {
        if (signal.aborted) return;
        await send(toFetchFilesResponse(file));
      }
    }),
  };
  return { definition: SyncServiceService, implementation };
}

/**
 * A path no member of ours sends (absolute, with '..', and the like): refused, and logged at
 * warn, since a member that sends one is broken or hostile and the admin should hear of it.
 */
function refuseForged(log: Logger, member: string, path: string): void {
  try {
    checkEntryPath(path);
  } catch (err) {
    log.warn('sync: refused a path from a member', {
      member,
      path: path.slice(0, 200),
      error: messageOf(err),
    });
    throw err;
  }
}
