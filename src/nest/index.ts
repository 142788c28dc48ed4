export type { CheckResult, CheckStatus, CheckTarget } from './check';
export { summarize } from './check';
export type { SystemProbes } from './probes';
export { runChecks } from './run-checks';
export { LESSONS, findLesson, type Lesson } from './lessons';
