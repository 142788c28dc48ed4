import { InvalidInputError, NotFoundError } from '../errors';

/**
 * The cluster's rules for one app as seen from this node: replicas.max is the cluster's, so this
 * node's share must leave room for what the members want of the app (their scales and
 * stand-ins, from the fleet).
 */

/** Refuses running an app here whose share (its current scale, or min) would pass max. */
export function refusePastClusterMax(
  app: { name: string; replicas: { min: number; max: number } },
  currentScale: number | undefined,
  others: number,
): void {
  if (others === 0) return;
  const { min, max } = app.replicas;
  const mine = Math.min(max, Math.max(min, currentScale ?? min));
  if (mine + others > max) {
    throw new InvalidInputError(
      `replicas.max: members already run ${others} of ${app.name}; ${mine} here would make ${mine + others}, past its replicas.max of ${max} (join with one replica: budgie chirp ${app.name})`,
    );
  }
}

/** Refuses scaling an app here past what max leaves after the members' replicas. */
export function refuseScalePastMax(
  app: string,
  replicas: number,
  max: number | undefined,
  others: number,
): void {
  if (max === undefined || others === 0 || replicas + others <= max) return;
  throw new InvalidInputError(
    `replicas: expected at most ${Math.max(0, max - others)} on this node: members run ${others} more of ${app} and its replicas.max is ${max}`,
  );
}

/** Where logs of a target come from: this node's replicas, the members', or both. */
export interface LogRoutes<T> {
  /** The replicas here that `target` names; throws NotFoundError when none. */
  here(target: string): T[];
  /** Whether `target` is an app this node runs (a replica ID is here alone). */
  isAppHere(target: string): boolean;
  streamHere(replicas: T[]): Promise<void>;
  /** The members' logs of `target`; undefined outside a cluster. */
  streamMembers: (() => Promise<void>) | undefined;
}

/**
 * Logs of a target as `docker service logs` gives them: a replica from the node that runs it;
 * an app from this node and every member that runs it, interleaved when following.
 */
export async function routeLogs<T>(
  routes: LogRoutes<T>,
  target: string,
  follow: boolean,
): Promise<void> {
  const { streamMembers } = routes;
  let here: T[];
  try {
    here = routes.here(target);
  } catch (err) {
    // Not here: in a cluster, the replica may run on another member.
    if (!(err instanceof NotFoundError) || streamMembers === undefined) throw err;
    await streamMembers();
    return;
  }
  const local = routes.streamHere(here);
  if (streamMembers === undefined || !routes.isAppHere(target)) {
    await local;
    return;
  }
  const members = (): Promise<void> =>
    streamMembers().catch((err: unknown) => {
      if (!(err instanceof NotFoundError)) throw err;
    });
  if (follow) await Promise.all([local, members()]);
  else {
    await local;
    await members();
  }
}
