/** The store persists the orchestrator's desired state, so it takes the orchestrator's shape. */
export type { AppRecord } from '../orchestrator/types';
