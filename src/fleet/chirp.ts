import type { Clock } from '../discovery/clock';
import type { Fleet, FreshAnswer } from './fleet';
import type { ChirpResult, FleetMember, NodeListing, PlacedReplica, Unreachable } from './types';

/** How long a chirp waits for members when the request does not say: a quiet LAN answers in ms. */
export const DEFAULT_CHIRP_TIMEOUT_MS = 1000;

export interface ChirpOptions {
  all: boolean;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** What a chirp reads: this node's own listing, and the fleet for the members'. */
export interface ChirpSources {
  /** This node's replicas, stopped ones too. */
  self(): NodeListing;
  fleet: Pick<Fleet, 'members' | 'fresh'>;
}

/**
 * Lists the replicas of the whole cluster: this node's, and every alive member's from a fresh
 * answer of the fleet (asked in parallel, one deadline for all), so that a chirp right after a
 * change on a member shows it. A member that fails or does not answer in time is listed as
 * unreachable rather than dropped, so that a partial answer never looks complete. Members that
 * heartbeats already see as suspect or dead are not asked: they are unreachable by definition.
 */
export async function chirp(
  sources: ChirpSources,
  clock: Clock,
  options: ChirpOptions,
): Promise<ChirpResult> {
  const shown = (r: PlacedReplica): boolean => options.all || r.replica.state !== 'exited';
  const self = sources.self().replicas.filter(shown);
  const rows = sources.fleet.members();
  if (rows === undefined) return { clustered: false, replicas: sorted(self), unreachable: [] };
  const unreachable: Unreachable[] = [];
  const alive: FleetMember[] = [];
  for (const m of rows) {
    if (m.self) continue;
    if (m.state === 'alive') alive.push(m);
    else unreachable.push(unreachableOf(m, m.state));
  }
  const answers = await withinDeadline(
    sources.fleet.fresh(alive, options.timeoutMs),
    clock,
    options,
  );
  const replicas = [...self];
  answers.forEach((answer, i) => {
    const member = alive[i];
    if (member === undefined) return;
    if ('reason' in answer) unreachable.push(unreachableOf(member, answer.reason));
    else replicas.push(...answer.listing.replicas.filter(shown));
  });
  return {
    clustered: true,
    replicas: sorted(replicas),
    unreachable: unreachable.sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/** The answers as they stand at the chirp's deadline (or when its caller gives up). */
async function withinDeadline(
  pending: Promise<FreshAnswer>[],
  clock: Clock,
  options: ChirpOptions,
): Promise<FreshAnswer[]> {
  let stop = (): void => undefined;
  const late: FreshAnswer = { reason: `no answer within ${options.timeoutMs} ms` };
  const deadline = new Promise<FreshAnswer>((resolve) => {
    const cancelTimer = clock.schedule(() => {
      resolve(late);
    }, options.timeoutMs);
    const onAbort = (): void => {
      resolve({ reason: 'the chirp was cancelled' });
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    stop = () => {
      cancelTimer();
      options.signal?.removeEventListener('abort', onAbort);
    };
  });
  try {
    return await Promise.all(pending.map((p) => Promise.race([p, deadline])));
  } finally {
    stop();
  }
}

function unreachableOf(member: FleetMember, reason: string): Unreachable {
  return { nodeId: member.nodeId, name: member.name, address: member.address, reason };
}

/** By app, then node name, then age: an app's replicas stay together whatever runs them. */
function sorted(replicas: PlacedReplica[]): PlacedReplica[] {
  return replicas.sort(
    (a, b) =>
      a.replica.app.localeCompare(b.replica.app) ||
      a.replica.node.localeCompare(b.replica.node) ||
      a.replica.createdMs - b.replica.createdMs,
  );
}
