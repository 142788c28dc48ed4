import { validateApp } from '../../bundle';
import type { App } from '../../bundle/types';
import type { ClusterStopOutcome } from '../../fleet';
import { InvalidInputError, NotFoundError } from '../../errors';
import {
  AppServiceService,
  Health,
  ReplicaState,
  type AppServiceServer,
  type Replica,
  type RunAppResponse,
} from '../../gen/budgie/v1/apps';
import type { Logger } from '../../log';
import type { Orchestrator } from '../../orchestrator';
import type { ReplicaView, RunEvent } from '../../orchestrator/types';
import type { ServiceBinding } from '../../rpc/handlers';
import { serverStream, unary } from '../../rpc/handlers';
import { ProgressSampler } from '../progress-sampler';
import { toPullEvent } from './images';
import { streamReplicaLogs, type LogSend, type LogsQuery } from './log-stream';

const STATE: Record<ReplicaView['state'], ReplicaState> = {
  created: ReplicaState.REPLICA_STATE_CREATED,
  running: ReplicaState.REPLICA_STATE_RUNNING,
  stopping: ReplicaState.REPLICA_STATE_STOPPING,
  exited: ReplicaState.REPLICA_STATE_EXITED,
};
const HEALTH: Record<ReplicaView['health'], Health> = {
  none: Health.HEALTH_NONE,
  starting: Health.HEALTH_STARTING,
  healthy: Health.HEALTH_HEALTHY,
  unhealthy: Health.HEALTH_UNHEALTHY,
};

/** Logs of a target that is not on this node, from the member that runs it (see src/fleet). */
export type RemoteLogs = (req: LogsQuery, send: LogSend, signal: AbortSignal) => Promise<void>;

/** A stop that reaches the members too (see src/fleet/stop.ts). */
export type ClusterStop = (target: string, signal: AbortSignal) => Promise<ClusterStopOutcome>;

/** What the AppService adds to the orchestrator in a cluster; absent in tests of one node. */
export interface ClusterReach {
  remoteLogs?: RemoteLogs;
  stop?: ClusterStop;
  /** Replicas of an app that the other members want (see ReplicaKeeper.elsewhere). */
  elsewhere?: (app: string) => number;
}

/** The AppService: the local API in front of the orchestrator. */
export function appService(
  orchestrator: Orchestrator,
  log: Logger,
  { remoteLogs, stop, elsewhere }: ClusterReach = {},
): ServiceBinding {
  const implementation: AppServiceServer = {
    runApp: serverStream(log, 'RunApp', async (req, send, signal) => {
      const app = validateApp(parseJson(req.appJson));
      refusePastClusterMax(app, orchestrator, elsewhere?.(app.name) ?? 0);
      const progress = new ProgressSampler((ev) => send(toPullEvent(ev)));
      const result = await orchestrator.run(app, {
        detach: req.detach,
        signal,
        onEvent: (event: RunEvent) => {
          if (event.type === 'image') progress.push(event.event);
          else void send(toRunEvent(event));
        },
      });
      await progress.flush();
      await send({
        event: {
          $case: 'done',
          value: { app: result.app, replicaIds: result.replicaIds, changed: result.changed },
        },
      });
    }),
    listReplicas: unary(log, 'ListReplicas', (req) =>
      Promise.resolve({ replicas: orchestrator.list(req.all, req.app).map(toReplica) }),
    ),
    stopApp: unary(log, 'StopApp', async (req, signal) => {
      if (req.target === '')
        throw new InvalidInputError('target: expected an app name or replica ID');
      const result =
        stop === undefined || req.here
          ? { ...(await orchestrator.stop(req.target)), unreachable: [] }
          : await stop(req.target, signal);
      return {
        stoppedIds: result.stoppedIds,
        app: result.app ?? '',
        unreachable: result.unreachable,
      };
    }),
    removeReplicas: unary(log, 'RemoveReplicas', async (req) => {
      if (req.target === '')
        throw new InvalidInputError('target: expected an app name or replica ID');
      const result = await orchestrator.remove(req.target, req.force);
      return { removedIds: result.removedIds, app: result.app ?? '' };
    }),
    scaleApp: unary(log, 'ScaleApp', async (req) => {
      // replicas.max is the cluster's: this node's share leaves room for the members' replicas.
      const max = orchestrator.replicaLimits(req.app)?.max;
      const others = elsewhere?.(req.app) ?? 0;
      if (max !== undefined && others > 0 && req.replicas + others > max) {
        throw new InvalidInputError(
          `replicas: expected at most ${Math.max(0, max - others)} on this node: members run ${others} more of ${req.app} and its replicas.max is ${max}`,
        );
      }
      return { replicas: await orchestrator.scale(req.app, req.replicas) };
    }),
    logs: serverStream(log, 'Logs', async (req, send, signal) => {
      if (req.target === '')
        throw new InvalidInputError('target: expected an app name or replica ID');
      let here: ReplicaView[];
      try {
        here = orchestrator.logTargets(req.target);
      } catch (err) {
        // Not here: in a cluster, the replica may run on another member.
        if (!(err instanceof NotFoundError) || remoteLogs === undefined) throw err;
        await remoteLogs(req, send, signal);
        return;
      }
      const local = streamReplicaLogs(here, req, send, signal);
      // A replica is here alone; an app also runs on members: all of it, as a Swarm service's logs.
      if (remoteLogs === undefined || orchestrator.replicaLimits(req.target) === undefined) {
        await local;
        return;
      }
      const members = (): Promise<void> =>
        remoteLogs(req, send, signal).catch((err: unknown) => {
          if (!(err instanceof NotFoundError)) throw err;
        });
      if (req.follow) await Promise.all([local, members()]);
      else {
        await local;
        await members();
      }
    }),
  };
  return { definition: AppServiceService, implementation };
}

/**
 * replicas.max is the cluster's: running an app here that members already run must leave this
 * node's share (its current scale, or min for a new app) within it.
 */
function refusePastClusterMax(app: App, orchestrator: Orchestrator, others: number): void {
  if (others === 0) return;
  const { min, max } = app.replicas;
  const current = orchestrator.counts().find((c) => c.app === app.name)?.scale ?? min;
  const mine = Math.min(max, Math.max(min, current));
  if (mine + others > max) {
    throw new InvalidInputError(
      `replicas.max: members already run ${others} of ${app.name}; ${mine} here would make ${mine + others}, past its replicas.max of ${max} (join with one replica: budgie chirp ${app.name})`,
    );
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidInputError('app_json: expected the normalised app as JSON');
  }
}

function toRunEvent(event: Exclude<RunEvent, { type: 'image' }>): RunAppResponse {
  if (event.type === 'phase') return { event: { $case: 'phase', value: event.text } };
  return { event: { $case: 'replica', value: toReplica(event.replica) } };
}

/** A replica view as the budgie.v1 message (also what the peer API sends inside NodeReplica). */
export function toReplica(r: ReplicaView): Replica {
  return {
    id: r.id,
    app: r.app,
    image: r.image,
    state: STATE[r.state],
    exitCode: r.exitCode ?? 0,
    createdUnixMs: r.createdMs,
    startedUnixMs: r.startedMs ?? 0,
    finishedUnixMs: r.finishedMs ?? 0,
    health: HEALTH[r.health],
    healthDetail: r.healthDetail,
    ports: r.ports.map((p) => ({
      hostPort: p.hostPort,
      containerPort: p.containerPort,
      protocol: p.protocol,
    })),
    node: r.node,
    ip: r.ip ?? '',
  };
}
