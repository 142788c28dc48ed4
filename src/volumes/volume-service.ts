import { InvalidInputError } from '../errors';
import { VolumeServiceService, type VolumeServiceServer } from '../gen/budgie/peer/v1/peer';
import type { Logger } from '../log';
import { readSnapshot } from './snapshot-reader';
import { toSnapshotResponse } from './snapshot-wire';
import { serverStream, type ServiceBinding } from '../rpc/handlers';
import type { NodeIdentity } from '../trust/identity';
import { callerOf } from '../peer/auth';

/**
 * The source directory of an rw volume that an app running here declares at `target`;
 * NotFoundError for an unknown app or target, FailedPreconditionError for an ro volume.
 */
export type RwVolumeSource = (app: string, target: string) => string;

/**
 * budgie.peer.v1.VolumeService: a member joining an app copies its rw volumes from here once.
 * Members only (the server's interceptor, and `callerOf` as the second lock): a stranger never
 * reads volume data. Only what the app declares rw is served, so ro data (often host config) and
 * arbitrary host paths stay put.
 */
export function volumeService(
  identity: () => NodeIdentity,
  source: RwVolumeSource,
  log: Logger,
): ServiceBinding {
  const implementation: VolumeServiceServer = {
    snapshot: serverStream(log, 'Snapshot', async (req, send, signal, call) => {
      callerOf(call, identity().caCertPem);
      if (req.app === '' || req.target === '') {
        throw new InvalidInputError('app and target: expected an app name and a volume target');
      }
      if (req.target.split('/').includes('..')) {
        throw new InvalidInputError(`target: ${JSON.stringify(req.target)} has a '..' segment`);
      }
      for await (const item of readSnapshot(source(req.app, req.target), signal)) {
        if (signal.aborted) return;
        await send(toSnapshotResponse(item));
      }
    }),
  };
  return { definition: VolumeServiceService, implementation };
}
