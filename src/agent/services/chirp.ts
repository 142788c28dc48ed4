import { chirp, DEFAULT_CHIRP_TIMEOUT_MS, type ChirpSources } from '../../chirp';
import type { Clock } from '../../discovery/clock';
import { InvalidInputError } from '../../errors';
import { ChirpServiceService, type ChirpServiceServer } from '../../gen/budgie/v1/chirp';
import type { Logger } from '../../log';
import type { ServiceBinding } from '../api-server';
import { unary } from '../handlers';

/** Past this a chirp is no longer "about a second": most likely a unit mistake. */
const MAX_TIMEOUT_MS = 60_000;

/** budgie.v1.ChirpService: the cluster's replicas, for `budgie chirp` and `ps --all-nodes`. */
export function chirpService(sources: ChirpSources, clock: Clock, log: Logger): ServiceBinding {
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
        replicas: result.replicas,
        unreachable: result.unreachable,
      };
    }),
  };
  return { definition: ChirpServiceService, implementation };
}
