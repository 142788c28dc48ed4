export {
  Orchestrator,
  type OrchestratorDeps,
  type RunOptions,
  type RunResult,
} from './orchestrator';
export { storeEnsurer } from './image-ensurer';
export type * from './types';
