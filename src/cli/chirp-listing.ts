import type { Replica } from '../gen/budgie/v1/apps';
import type { ChirpReplica, ChirpResponse, UnreachableMember } from '../gen/budgie/v1/chirp';
import { parseDuration } from '../bundle/duration';
import { UsageError } from './failure';
import { replicaJson, stateName, type ReplicaJson } from './replicas';

/** A chirp's replicas with their Replica message present (the agent always sends it). */
export function replicasOf(res: ChirpResponse): { placed: ChirpReplica; replica: Replica }[] {
  return res.replicas.flatMap((placed) =>
    placed.replica === undefined ? [] : [{ placed, replica: placed.replica }],
  );
}

interface AppCount {
  running: number;
  min: number;
  max: number;
}

/** REPLICAS: running/min..max of each app, counted over every node that answered. */
export function replicaCounts(res: ChirpResponse): Map<string, string> {
  return new Map([...appCounts(res)].map(([name, c]) => [name, `${c.running}/${c.min}..${c.max}`]));
}

function appCounts(res: ChirpResponse): Map<string, AppCount> {
  const apps = new Map<string, AppCount>();
  for (const { placed, replica } of replicasOf(res)) {
    const app = apps.get(replica.app) ?? {
      running: 0,
      min: placed.replicasMin,
      max: placed.replicasMax,
    };
    if (stateName(replica) === 'running') app.running += 1;
    // Members agree on min and max; one that has not heard of a change yet must not lower them.
    app.min = Math.max(app.min, placed.replicasMin);
    app.max = Math.max(app.max, placed.replicasMax);
    apps.set(replica.app, app);
  }
  return apps;
}

/** One line naming the members whose replicas are missing; undefined when every one answered. */
export function unreachableLine(res: ChirpResponse): string | undefined {
  if (!res.clustered) return 'This node is in no cluster: only its own replicas are listed.';
  if (res.unreachable.length === 0) return undefined;
  const names = res.unreachable.map(describeUnreachable).join('; ');
  return `Not listed, ${res.unreachable.length} member(s) unreachable: ${names}`;
}

function describeUnreachable(m: UnreachableMember): string {
  return `${m.name || m.nodeId.slice(0, 12)} (${m.address}): ${m.reason}`;
}

/** The stable JSON shape of `budgie chirp --format json`. */
export interface ChirpJson {
  clustered: boolean;
  replicas: (ReplicaJson & {
    nodeId: string;
    addresses: string[];
    replicas: { running: number; min: number; max: number };
  })[];
  unreachable: { nodeId: string; name: string; address: string; reason: string }[];
}

export function chirpJson(res: ChirpResponse): ChirpJson {
  const counts = appCounts(res);
  return {
    clustered: res.clustered,
    replicas: replicasOf(res).map(({ placed, replica }) => ({
      ...replicaJson(replica),
      nodeId: placed.nodeId,
      addresses: placed.addresses,
      replicas: counts.get(replica.app) ?? { running: 0, min: 0, max: 0 },
    })),
    unreachable: res.unreachable.map((u) => ({ ...u })),
  };
}

/** `--timeout 1s`: how long to wait for members. */
export function chirpTimeout(text: string | undefined): number {
  if (text === undefined) return 0;
  const parsed = parseDuration(text.trim());
  if ('reason' in parsed || parsed.ms <= 0 || parsed.ms > 60_000) {
    throw new UsageError(
      `--timeout must be a duration between 1ms and 60s such as '1s' or '500ms', got '${text}'`,
    );
  }
  return parsed.ms;
}
