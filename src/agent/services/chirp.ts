import { posix } from 'node:path';
import {
  chirp,
  DEFAULT_CHIRP_TIMEOUT_MS,
  joinApp,
  toReplica,
  type ChirpSources,
  type JoinEvent,
  type JoinSources,
} from '../../fleet';
import type { Clock } from '../../discovery/clock';
import { InvalidInputError } from '../../errors';
import {
  ChirpServiceService,
  type ChirpServiceServer,
  type JoinAppResponse,
  type VolumeMapping,
} from '../../gen/budgie/v1/chirp';
import type { Logger } from '../../log';
import type { ServiceBinding } from '../../rpc/handlers';
import { serverStream, unary } from '../../rpc/handlers';

/** Past this a chirp is no longer "about a second": most likely a unit mistake. */
const MAX_TIMEOUT_MS = 60_000;

/** budgie.v1.ChirpService: the cluster's replicas, for `budgie chirp` and `ps --all-nodes`. */
export function chirpService(
  sources: ChirpSources,
  clock: Clock,
  log: Logger,
  join: JoinSources,
): ServiceBinding {
  const implementation: ChirpServiceServer = {
    chirp: unary(log, 'Chirp', async (req, signal) => {
      if (req.timeoutMs > MAX_TIMEOUT_MS) {
        throw new InvalidInputError(
          `timeout_ms: expected at most ${MAX_TIMEOUT_MS} ms, got ${req.timeoutMs}`,
        );
      }
      const timeoutMs = req.timeoutMs === 0 ? DEFAULT_CHIRP_TIMEOUT_MS : req.timeoutMs;
      const result = await chirp(sources, clock, { all: req.all, timeoutMs, signal });
      return {
        clustered: result.clustered,
        replicas: result.replicas.map((r) => ({
          replica: toReplica(r.replica),
          nodeId: r.nodeId,
          addresses: r.addresses,
          replicasMin: r.replicasMin,
          replicasMax: r.replicasMax,
        })),
        unreachable: result.unreachable,
      };
    }),
    joinApp: serverStream(log, 'JoinApp', async (req, send, signal) => {
      if (req.target === '') {
        throw new InvalidInputError('target: expected a replica ID or an app name');
      }
      // Progress is sent in order but not awaited one by one: join awaits nothing from it.
      let sent = Promise.resolve();
      const volumeMap = volumeMapOf(req.volumeMap);
      const result = await joinApp(
        join,
        req.target,
        signal,
        (event) => {
          sent = sent.then(() => send(toJoinEvent(event)));
        },
        volumeMap,
      );
      await sent;
      await send({ event: { $case: 'done', value: result } });
    }),
  };
  return { definition: ChirpServiceService, implementation };
}

/** The admin's ro volume mappings: absolute paths both sides, one per target. */
function volumeMapOf(mappings: readonly VolumeMapping[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const { target, source } of mappings) {
    if (!posix.isAbsolute(target) || !posix.isAbsolute(source)) {
      throw new InvalidInputError(
        `volume_map ${target}=${source}: expected an absolute path in the container = an absolute path on this machine`,
      );
    }
    if (out.has(target)) {
      throw new InvalidInputError(`volume_map ${target}: mapped twice`);
    }
    out.set(target, source);
  }
  return out;
}

function toJoinEvent(event: JoinEvent): JoinAppResponse {
  if (event.type === 'phase') return { event: { $case: 'phase', value: event.text } };
  return { event: { $case: 'blobs', value: { done: event.done, total: event.total } } };
}
