import { offsetSince, readLog } from '../../logs';
import type { Orchestrator } from '../../orchestrator';
import type { ReplicaView } from '../../orchestrator/types';

/** What both Logs RPCs (the local API's and the peer API's) ask for. */
export interface LogsQuery {
  target: string;
  follow: boolean;
  tail: number;
  sinceUnixMs: number;
}

export type LogSend = (chunk: { replicaId: string; data: Buffer }) => Promise<void>;

/**
 * Streams this node's logs of a replica or an app. Followed logs interleave as they come; others
 * go replica after replica. Throws NotFoundError when the target is not on this node.
 */
export async function streamLocalLogs(
  orchestrator: Orchestrator,
  req: LogsQuery,
  send: LogSend,
  signal: AbortSignal,
): Promise<void> {
  await streamReplicaLogs(orchestrator.logTargets(req.target), req, send, signal);
}

/** Streams the logs of the given replicas of this node, as `streamLocalLogs` does. */
export async function streamReplicaLogs(
  replicas: readonly ReplicaView[],
  req: LogsQuery,
  send: LogSend,
  signal: AbortSignal,
): Promise<void> {
  const pump = async (replica: ReplicaView): Promise<void> => {
    const from = req.sinceUnixMs > 0 ? await offsetSince(replica.logPath, req.sinceUnixMs) : 0;
    for await (const data of readLog(replica.logPath, {
      tail: req.tail,
      from,
      follow: req.follow,
      signal,
    })) {
      await send({ replicaId: replica.id, data });
    }
  };
  if (req.follow) await Promise.all(replicas.map(pump));
  else for (const replica of replicas) await pump(replica);
}
