/** HTTP healthchecks of replicas (Docker's semantics: starting, healthy, unhealthy). */
export { HealthMonitor, formatMs } from './monitor';
export { httpRequest, MAX_BODY_BYTES } from './http-request';
export type {
  HealthMonitorOptions,
  HealthRequest,
  HealthState,
  HealthTarget,
  Schedule,
} from './types';
