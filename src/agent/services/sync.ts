import { SyncServiceService, type SyncServiceServer } from '../../gen/budgie/v1/sync';
import type { Logger } from '../../log';
import type { ClusterNode } from '../../membership';
import { unary, type ServiceBinding } from '../../rpc/handlers';
import type { SyncEngine, VolumeSyncStatus } from '../../sync';

/** A conflict copy's name ends in -<7 hex of the node id>(.ext): the node whose version it is. */
const CONFLICT_NODE = /\.sync-conflict-\d{8}-\d{6}-([0-9a-z-]{1,7})(?:\.[^/]*)?$/;

/** budgie.v1.SyncService: the state of volume sync on this node, with members named. */
export function syncStatusService(
  engine: () => SyncEngine | undefined,
  cluster: ClusterNode,
  log: Logger,
): ServiceBinding {
  const implementation: SyncServiceServer = {
    status: unary(log, 'Status', (req) => {
      const rows = cluster.nodes()?.rows ?? [];
      const nameOf = (nodeId: string): string => rows.find((r) => r.nodeId === nodeId)?.name ?? '';
      const byPrefix = (prefix: string): string =>
        rows.find((r) => r.nodeId.startsWith(prefix))?.nodeId ?? '';
      const volumes = (engine()?.status(req.app) ?? []).map((v: VolumeSyncStatus) => ({
        app: v.app,
        target: v.target,
        dir: v.dir,
        files: v.files,
        bytes: v.bytes,
        sequence: v.sequence,
        conflicts: v.conflicts.map((path) => {
          const nodeId = byPrefix(CONFLICT_NODE.exec(path)?.[1] ?? '\0');
          return { path, nodeId, nodeName: nameOf(nodeId) };
        }),
        receivedLiteralBytes: v.received.literalBytes,
        receivedFileBytes: v.received.fileBytes,
        receivedFiles: v.received.files,
        peers: v.peers.map((p) => ({
          nodeId: p.nodeId,
          nodeName: nameOf(p.nodeId),
          inSync: p.inSync,
          behind: Math.max(0, p.sequence - p.since),
          syncedAtUnixMs: p.syncedAtMs,
          error: p.error,
          roundFiles: p.round?.files ?? 0,
          roundBytes: p.round?.bytes ?? 0,
          roundDoneFiles: p.round?.doneFiles ?? 0,
          roundDoneBytes: p.round?.doneBytes ?? 0,
        })),
      }));
      return Promise.resolve({ volumes });
    }),
  };
  return { definition: SyncServiceService, implementation };
}
