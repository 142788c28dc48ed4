import * as t from 'io-ts';
import { describe } from './describe';

/** An io-ts decoder from untrusted input. Encoding is never needed, so no full `t.Type`. */
export type Dec<A> = t.Decoder<unknown, A>;

export function decoder<A>(
  name: string,
  validate: (u: unknown, c: t.Context) => t.Validation<A>,
): Dec<A> {
  const self: Dec<A> = {
    name,
    validate,
    decode: (u) => validate(u, [{ key: '', type: self, actual: u }]),
  };
  return self;
}

/** A check's verdict that the value is wrong, with an optional hint on how to fix it. */
export class Reject {
  constructor(readonly hint?: string) {}
}

/**
 * A decoder for one value. Its failure message is complete (`expected X, got Y (hint)`), so the
 * report never has to guess from codec names.
 */
export function leaf<A>(expected: string, check: (u: unknown) => A | Reject): Dec<A> {
  return decoder(expected, (u, c) => {
    const result = check(u);
    if (!(result instanceof Reject)) return t.success(result);
    return t.failure(u, c, expectedGot(expected, u, result.hint));
  });
}

export function expectedGot(expected: string, u: unknown, hint?: string): string {
  return `expected ${expected}, got ${describe(u)}${hint === undefined ? '' : ` (${hint})`}`;
}
