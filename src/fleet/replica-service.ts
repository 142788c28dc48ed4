import { ReplicaServiceService, type ReplicaServiceServer } from '../gen/budgie/peer/v1/peer';
import { InvalidInputError } from '../errors';
import type { Logger } from '../log';
import { serverStream, unary, type ServiceBinding } from '../rpc/handlers';
import type { NodeIdentity } from '../trust/identity';
import { callerOf } from '../peer/auth';
import type { AppCounts } from '../orchestrator/types';
import { toReplica } from './replica-wire';
import type { PeerApp } from './join';
import type { LogChunk, LogsQuery } from './remote-logs';
import type { StopOutcome } from './stop';
import type { PlacedReplica } from './types';

/** What this node's replicas look like to members; the agent builds it from the orchestrator. */
export interface ReplicaSource {
  list(all: boolean): PlacedReplica[];
  /** Every app here with its counts, for the cluster-wide replicas.min. */
  counts(): AppCounts[];
  /** Stops an app (name) or one replica (ID or prefix) here; NotFoundError when not here. */
  stop(target: string): Promise<StopOutcome>;
  /** Streams logs as the local Logs RPC does; NotFoundError when the target is not here. */
  logs(
    req: LogsQuery,
    send: (chunk: LogChunk) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void>;
  /**
   * The app a target names, with the image it runs here, for `caller` to join it (who may then
   * pull its volumes); NotFoundError when not here.
   */
  getApp(target: string, caller: string, signal: AbortSignal): Promise<PeerApp>;
}

/**
 * budgie.peer.v1.ReplicaService: members read this node's replicas and logs. The server's
 * interceptor already refuses non-members; `callerOf` here is the second lock, so a handler never
 * runs for a caller it cannot name.
 */
export function replicaService(
  identity: () => NodeIdentity,
  source: ReplicaSource,
  log: Logger,
): ServiceBinding {
  const implementation: ReplicaServiceServer = {
    listReplicas: unary(log, 'ListReplicas', (req, _signal, call) => {
      const self = identity();
      callerOf(call, self.caCertPem);
      return Promise.resolve({
        nodeId: self.nodeId,
        nodeName: self.nodeName,
        replicas: source.list(req.all).map((r) => ({
          replica: toReplica(r.replica),
          addresses: r.addresses,
          replicasMin: r.replicasMin,
          replicasMax: r.replicasMax,
          direct: r.direct,
        })),
        apps: source.counts(),
      });
    }),
    stop: unary(log, 'Stop', async (req, _signal, call) => {
      const caller = callerOf(call, identity().caCertPem);
      if (req.target === '') {
        throw new InvalidInputError('target: expected an app name or replica ID');
      }
      log.info('stop asked by a member', { target: req.target, member: caller.nodeId });
      const outcome = await source.stop(req.target);
      return { stoppedIds: outcome.stoppedIds, app: outcome.app ?? '' };
    }),
    logs: serverStream(log, 'Logs', async (req, send, signal, call) => {
      callerOf(call, identity().caCertPem);
      await source.logs(req, send, signal);
    }),
    getApp: unary(log, 'GetApp', async (req, _signal, call) => {
      const caller = callerOf(call, identity().caCertPem);
      if (req.target === '') {
        throw new InvalidInputError('target: expected an app name or replica ID');
      }
      // A unary call has no cancel signal worth wiring: the lookup is local and short.
      const { app, image } = await source.getApp(
        req.target,
        caller.nodeId,
        new AbortController().signal,
      );
      return { appJson: JSON.stringify(app), image };
    }),
  };
  return { definition: ReplicaServiceService, implementation };
}
