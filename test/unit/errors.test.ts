import * as errors from '../../src/errors';
import { describeFailure } from '../../src/cli/failure';

/** A second copy of src/errors, as the agent's modules hold beside the CLI's bundle. */
function otherCopy(): typeof errors {
  let copy: typeof errors | undefined;
  jest.isolateModules(() => {
    copy = jest.requireActual<typeof errors>('../../src/errors');
  });
  if (copy === undefined || copy === errors) throw new Error('no second copy of src/errors');
  return copy;
}

describe("Budgie's errors", () => {
  it('are told by class even when another copy of the module made them', () => {
    const other = otherCopy();
    expect(other.NotFoundError).not.toBe(errors.NotFoundError);
    const err = new other.NotFoundError('app web: not found');
    expect(err instanceof errors.BudgieError).toBe(true);
    expect(err instanceof errors.NotFoundError).toBe(true);
    expect(err instanceof errors.InvalidInputError).toBe(false);
    expect(new errors.ConflictError('x') instanceof other.ConflictError).toBe(true);
    expect(new Error('plain') instanceof errors.BudgieError).toBe(false);
    // Not an error at all, or one that merely has the class's name.
    expect(('text' as unknown) instanceof errors.BudgieError).toBe(false);
    class NotFoundError extends Error {}
    expect(new NotFoundError() instanceof errors.NotFoundError).toBe(false);
  });

  it("from another copy, print as the user's message, not as a bug", () => {
    const other = otherCopy();
    const failure = describeFailure(new other.UnavailableError('containerd is not running'), false);
    expect(failure).toEqual({ text: 'budgie: containerd is not running\n', code: 1 });
  });
});
