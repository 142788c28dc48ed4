import { ConflictError, NotFoundError } from '../errors';
import { mergeLogs } from '../logs';
import type { ChirpResult, PlacedReplica } from './types';

export interface LogsQuery {
  target: string;
  follow: boolean;
  tail: number;
  sinceUnixMs: number;
}

export interface LogChunk {
  replicaId: string;
  data: Buffer;
}

export interface RemoteLogSources {
  /** The cluster's replicas, stopped ones included (their logs are still readable). */
  chirp(): Promise<ChirpResult>;
  selfNodeId(): string | undefined;
  /** HOST:PORT of a member's peer API; undefined when it is no longer known. */
  addressOf(nodeId: string): string | undefined;
  /** The member's Logs for one replica (by full ID). */
  open(
    address: string,
    nodeId: string,
    req: LogsQuery,
    signal: AbortSignal,
  ): AsyncIterable<LogChunk>;
}

/**
 * Logs of a replica (ID or unique prefix) or an app that runs on other members: found through a
 * chirp, read from each member's peer Logs, one replica after another, or interleaved when
 * following, exactly as local logs are.
 */
export async function streamRemoteLogs(
  sources: RemoteLogSources,
  req: LogsQuery,
  send: (chunk: LogChunk) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  const result = await sources.chirp();
  const self = sources.selfNodeId();
  const remote = result.replicas.filter((r) => r.nodeId !== self);
  const targets = pick(remote, req.target, result);
  const open = (r: PlacedReplica): AsyncIterable<LogChunk> => {
    const address = sources.addressOf(r.nodeId);
    if (address === undefined) {
      throw new NotFoundError(
        `replica ${r.replica.id.slice(0, 12)}: its node ${r.replica.node} is no longer a known member`,
      );
    }
    return sources.open(address, r.nodeId, { ...req, target: r.replica.id }, signal);
  };
  if (!req.follow) {
    for (const r of targets) for await (const chunk of open(r)) await send(chunk);
    return;
  }
  const merged = mergeLogs(targets.map((r) => ({ id: r.replica.id, iterable: dataOf(open(r)) })));
  for await (const chunk of merged) await send({ replicaId: chunk.id, data: chunk.data });
}

/** An app's replicas on members, or the one replica an ID (prefix) names. */
export function pick(
  remote: PlacedReplica[],
  target: string,
  result: ChirpResult,
): PlacedReplica[] {
  const ofApp = remote.filter((r) => r.replica.app === target);
  if (ofApp.length > 0) return ofApp;
  const byId = /^[0-9a-f]{1,64}$/.test(target)
    ? remote.filter((r) => r.replica.id.startsWith(target))
    : [];
  const [only, ...more] = byId;
  if (only === undefined) {
    const missing =
      result.unreachable.length > 0
        ? ` (${result.unreachable.length} member(s) did not answer: ${result.unreachable.map((u) => u.name || u.address).join(', ')})`
        : '';
    throw new NotFoundError(
      `no app or replica named ${target} on this node or its members${missing} (see 'budgie chirp')`,
    );
  }
  if (more.length > 0) {
    const ids = byId.map((r) => `${r.replica.id.slice(0, 12)} on ${r.replica.node}`).join(', ');
    throw new ConflictError(
      `replica ID prefix ${target} is ambiguous: ${ids}; give more of the ID`,
    );
  }
  return [only];
}

async function* dataOf(chunks: AsyncIterable<LogChunk>): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) yield chunk.data;
}
