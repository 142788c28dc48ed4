import { validateApp } from '../../bundle';
import {
  refusePastClusterMax,
  refuseScalePastMax,
  routeLogs,
  toReplica,
  type ClusterStopOutcome,
} from '../../fleet';
import { InvalidInputError } from '../../errors';
import {
  AppServiceService,
  type AppServiceServer,
  type RunAppResponse,
} from '../../gen/budgie/v1/apps';
import type { Logger } from '../../log';
import type { Orchestrator } from '../../orchestrator';
import type { RunEvent } from '../../orchestrator/types';
import type { ServiceBinding } from '../../rpc/handlers';
import { serverStream, unary } from '../../rpc/handlers';
import { ProgressSampler } from '../progress-sampler';
import { toPullEvent } from './images';
import { streamReplicaLogs, type LogSend, type LogsQuery } from './log-stream';

/** Logs of a target that is not on this node, from the member that runs it (see src/fleet). */
export type RemoteLogs = (req: LogsQuery, send: LogSend, signal: AbortSignal) => Promise<void>;

/** A stop that reaches the members too (see src/fleet/stop.ts). */
export type ClusterStop = (target: string, signal: AbortSignal) => Promise<ClusterStopOutcome>;

/** What the AppService adds to the orchestrator in a cluster; absent in tests of one node. */
export interface ClusterReach {
  remoteLogs?: RemoteLogs;
  stop?: ClusterStop;
  /** Replicas of an app that the other members want (see Fleet.wantedElsewhere). */
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
      const scale = orchestrator.counts().find((c) => c.app === app.name)?.scale;
      refusePastClusterMax(app, scale, elsewhere?.(app.name) ?? 0);
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
      const max = orchestrator.replicaLimits(req.app)?.max;
      refuseScalePastMax(req.app, req.replicas, max, elsewhere?.(req.app) ?? 0);
      return { replicas: await orchestrator.scale(req.app, req.replicas) };
    }),
    logs: serverStream(log, 'Logs', async (req, send, signal) => {
      if (req.target === '')
        throw new InvalidInputError('target: expected an app name or replica ID');
      await routeLogs(
        {
          here: (target) => orchestrator.logTargets(target),
          isAppHere: (target) => orchestrator.replicaLimits(target) !== undefined,
          streamHere: (replicas) => streamReplicaLogs(replicas, req, send, signal),
          streamMembers: remoteLogs === undefined ? undefined : () => remoteLogs(req, send, signal),
        },
        req.target,
        req.follow,
      );
    }),
  };
  return { definition: AppServiceService, implementation };
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
