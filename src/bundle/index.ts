/** The .bun app format: parse, validate and normalise (see README, "The .bun format"). */
export { parseBundle } from './parse';
export { loadBundle } from './load';
export { validateApp } from './validate-app';
export { BundleError, formatProblem, type BundleProblem } from './problems';
export { MAX_BUNDLE_BYTES } from './text-checks';
export type * from './types';
