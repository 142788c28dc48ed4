import { messageOf, NotFoundError } from '../errors';
import { pick } from './remote-logs';
import type { ChirpResult } from './types';

/** What a stop did on one node: the replicas it stopped, and the app when it was a whole one. */
export interface StopOutcome {
  app?: string;
  stoppedIds: string[];
}

/** A stop across the cluster, with the members that could not be asked (by name, and why). */
export interface ClusterStopOutcome extends StopOutcome {
  unreachable: string[];
}

/** What a cluster-wide stop needs; the agent wires the real ones, unit tests fakes. */
export interface StopSources {
  /** Every replica in the cluster, stopped ones too; `clustered` false outside a cluster. */
  chirp(signal: AbortSignal): Promise<ChirpResult>;
  selfNodeId(): string | undefined;
  /** Whether this node runs the app (with or without replicas now). */
  runsHere(app: string): boolean;
  /** Stops an app or replica on this node; NotFoundError when it is not here. */
  stopHere(target: string): Promise<StopOutcome>;
  /** HOST:PORT of a member's peer API; undefined when it is no longer known. */
  addressOf(nodeId: string): string | undefined;
  /** Stops an app or replica on a member; NotFoundError when it is not there. */
  stopOn(
    nodeId: string,
    address: string,
    target: string,
    signal: AbortSignal,
  ): Promise<StopOutcome>;
}

/**
 * `budgie stop` on any member: an app name stops the app on every member that runs it, here and
 * there at once, as Swarm's `service rm` does; a replica ID (or unique prefix) stops that one
 * replica wherever it runs. Members that could not be asked are reported, not hidden: the app
 * may still run there.
 */
export async function stopInCluster(
  sources: StopSources,
  target: string,
  signal: AbortSignal,
): Promise<ClusterStopOutcome> {
  const result = await sources.chirp(signal);
  if (!result.clustered) return { ...(await sources.stopHere(target)), unreachable: [] };
  const self = sources.selfNodeId();
  const remote = result.replicas.filter((r) => r.nodeId !== self);
  const holders = new Map<string, string>();
  for (const r of remote) if (r.replica.app === target) holders.set(r.nodeId, r.replica.node);
  const here = sources.runsHere(target);
  if (!here && holders.size === 0) return stopReplica(sources, target, remote, result, signal);

  const unreachable = result.unreachable.map((u) => `${u.name || u.address} (${u.reason})`);
  const stops = [...holders].map(async ([nodeId, name]): Promise<string[]> => {
    const address = sources.addressOf(nodeId);
    if (address === undefined) {
      unreachable.push(`${name} (no longer a known member)`);
      return [];
    }
    try {
      return (await sources.stopOn(nodeId, address, target, signal)).stoppedIds;
    } catch (err) {
      // Stopped there meanwhile: nothing left to do.
      if (err instanceof NotFoundError) return [];
      unreachable.push(`${name} (${messageOf(err)})`);
      return [];
    }
  });
  const local = here ? sources.stopHere(target).then((o) => o.stoppedIds) : Promise.resolve([]);
  const stopped = await Promise.all([local, ...stops]);
  return { app: target, stoppedIds: stopped.flat(), unreachable };
}

/** One replica: here when it is here, else on the member that runs it. */
async function stopReplica(
  sources: StopSources,
  target: string,
  remote: ChirpResult['replicas'],
  result: ChirpResult,
  signal: AbortSignal,
): Promise<ClusterStopOutcome> {
  try {
    return { ...(await sources.stopHere(target)), unreachable: [] };
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  const [chosen] = pick(remote, target, result);
  if (chosen === undefined) throw new NotFoundError(`no app or replica named ${target}`);
  const address = sources.addressOf(chosen.nodeId);
  if (address === undefined) {
    throw new NotFoundError(
      `replica ${chosen.replica.id.slice(0, 12)}: its node ${chosen.replica.node} is no longer a known member`,
    );
  }
  const outcome = await sources.stopOn(chosen.nodeId, address, chosen.replica.id, signal);
  return { stoppedIds: outcome.stoppedIds, unreachable: [] };
}
