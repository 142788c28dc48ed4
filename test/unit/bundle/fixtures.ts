import { join } from 'node:path';
import { BundleError, formatProblem, loadBundle } from '../../../src/bundle';

export const FIXTURES = join(__dirname, '../../fixtures/bundles');

/** The problem lines for a fixture, with the file shown by its base name as a user would type it. */
export async function problemsOf(name: string): Promise<string[]> {
  const err: unknown = await loadBundle(join(FIXTURES, 'invalid', name)).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof BundleError))
    throw new Error(`${name}: expected a BundleError, got ${String(err)}`);
  return err.problems.map((p) => formatProblem({ ...p, file: name }));
}
