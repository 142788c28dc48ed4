import type { Clock } from '../discovery/clock';
import { messageOf } from '../errors';
import type { MemberView } from '../membership';
import type { ChirpResult, ChirpSources, NodeListing, PlacedReplica, Unreachable } from './types';

/** How long a chirp waits for members when the request does not say: a quiet LAN answers in ms. */
export const DEFAULT_CHIRP_TIMEOUT_MS = 1000;

export interface ChirpOptions {
  all: boolean;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/**
 * Lists the replicas of the whole cluster: this node's, and every alive member's asked in
 * parallel with one deadline for all. A member that fails or does not answer in time is listed as
 * unreachable rather than dropped, so that a partial answer never looks complete. Members that
 * heartbeats already see as suspect or dead are not asked: they are unreachable by definition.
 */
export async function chirp(
  sources: ChirpSources,
  clock: Clock,
  options: ChirpOptions,
): Promise<ChirpResult> {
  const self = sources.self(options.all);
  const members = sources.members();
  if (members === undefined) {
    return { clustered: false, replicas: sorted(self.replicas), unreachable: [] };
  }
  const unreachable: Unreachable[] = [];
  const alive: MemberView[] = [];
  for (const m of members) {
    if (m.state === 'alive') alive.push(m);
    else unreachable.push(unreachableOf(m, m.state));
  }
  const answers = await Promise.all(alive.map((m) => askInTime(sources, clock, m, options)));
  const replicas = [...self.replicas];
  answers.forEach((answer, i) => {
    const member = alive[i];
    if (member === undefined) return;
    if ('reason' in answer) unreachable.push(unreachableOf(member, answer.reason));
    else replicas.push(...answer.replicas);
  });
  return {
    clustered: true,
    replicas: sorted(replicas),
    unreachable: unreachable.sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/** The member's listing, or why there is none; never rejects. */
async function askInTime(
  sources: ChirpSources,
  clock: Clock,
  member: MemberView,
  options: ChirpOptions,
): Promise<NodeListing | { reason: string }> {
  const controller = new AbortController();
  const onAbort = (): void => {
    controller.abort();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let cancelTimer = (): void => undefined;
  const timedOut = new Promise<{ reason: string }>((resolve) => {
    cancelTimer = clock.schedule(() => {
      controller.abort();
      resolve({ reason: `no answer within ${options.timeoutMs} ms` });
    }, options.timeoutMs);
  });
  const asked = sources.ask(member, options.all, controller.signal).then(
    (listing) => listing,
    (err: unknown) => ({ reason: messageOf(err) }),
  );
  try {
    return await Promise.race([asked, timedOut]);
  } finally {
    cancelTimer();
    options.signal?.removeEventListener('abort', onAbort);
  }
}

function unreachableOf(member: MemberView, reason: string): Unreachable {
  return { nodeId: member.nodeId, name: member.name, address: member.address, reason };
}

/** By app, then node name, then age: an app's replicas stay together whatever runs them. */
function sorted(replicas: PlacedReplica[]): PlacedReplica[] {
  return replicas.sort(
    (a, b) =>
      a.replica.app.localeCompare(b.replica.app) ||
      a.replica.node.localeCompare(b.replica.node) ||
      a.replica.createdUnixMs - b.replica.createdUnixMs,
  );
}
