import { validateApp } from '../../bundle';
import { InvalidInputError } from '../../errors';
import {
  AppServiceService,
  Health,
  ReplicaState,
  type AppServiceServer,
  type Replica,
  type RunAppResponse,
} from '../../gen/budgie/v1/apps';
import type { Logger } from '../../log';
import { offsetSince, readLog } from '../../logs';
import type { Orchestrator } from '../../orchestrator';
import type { ReplicaView, RunEvent } from '../../orchestrator/types';
import type { ServiceBinding } from '../api-server';
import { serverStream, unary } from '../handlers';
import { ProgressSampler } from '../progress-sampler';
import { toPullEvent } from './images';

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

/** The AppService: the local API in front of the orchestrator. */
export function appService(orchestrator: Orchestrator, log: Logger): ServiceBinding {
  const implementation: AppServiceServer = {
    runApp: serverStream(log, 'RunApp', async (req, send, signal) => {
      const app = validateApp(parseJson(req.appJson));
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
    stopApp: unary(log, 'StopApp', async (req) => {
      if (req.target === '')
        throw new InvalidInputError('target: expected an app name or replica ID');
      const result = await orchestrator.stop(req.target);
      return { stoppedIds: result.stoppedIds, app: result.app ?? '' };
    }),
    removeReplicas: unary(log, 'RemoveReplicas', async (req) => {
      if (req.target === '')
        throw new InvalidInputError('target: expected an app name or replica ID');
      const result = await orchestrator.remove(req.target, req.force);
      return { removedIds: result.removedIds, app: result.app ?? '' };
    }),
    scaleApp: unary(log, 'ScaleApp', async (req) => ({
      replicas: await orchestrator.scale(req.app, req.replicas),
    })),
    logs: serverStream(log, 'Logs', async (req, send, signal) => {
      if (req.target === '')
        throw new InvalidInputError('target: expected an app name or replica ID');
      const replicas = orchestrator.logTargets(req.target);
      // Followed logs interleave as they come; others go replica after replica.
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

function toReplica(r: ReplicaView): Replica {
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
