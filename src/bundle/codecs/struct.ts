import * as t from 'io-ts';
import { isLeft } from 'fp-ts/Either';
import { didYouMean } from '../did-you-mean';
import { decoder, expectedGot, type Dec } from './decoder';

type Props = Record<string, Dec<unknown>>;
type Decoded<P extends Props> = { [K in keyof P]: P[K] extends Dec<infer A> ? A : never };
export type StructOf<R extends Props, O extends Props> = Decoded<R> & Partial<Decoded<O>>;

/**
 * The context entry type that marks a failure as being about a key that should not be there, so
 * the report points at the key rather than its value.
 */
export const UNKNOWN_FIELD: Dec<never> = decoder('a known field', (u, c) => t.failure(u, c));

export function isPlainMapping(u: unknown): u is Record<string, unknown> {
  return typeof u === 'object' && u !== null && !Array.isArray(u);
}

/**
 * A mapping with required and optional fields. Unlike `t.type`, unknown keys are errors (with a
 * did-you-mean), and every field is checked even after one fails, so all problems come out at once.
 */
export function struct<R extends Props, O extends Props>(
  expected: string,
  required: R,
  optional: O,
): Dec<StructOf<R, O>> {
  const known = [...Object.keys(required), ...Object.keys(optional)];
  return decoder(expected, (u, c) => {
    if (!isPlainMapping(u)) return t.failure(u, c, expectedGot(expected, u));
    const errors = unknownFields(u, known, c);
    const out: Record<string, unknown> = {};
    const decodeField = (key: string, field: Dec<unknown>, isRequired: boolean): void => {
      const value = Object.hasOwn(u, key) ? u[key] : undefined;
      if (value === undefined && !isRequired) return;
      const result = field.validate(value, t.appendContext(c, key, field, value));
      if (isLeft(result)) errors.push(...result.left);
      else out[key] = result.right;
    };
    for (const [key, field] of Object.entries(required)) decodeField(key, field, true);
    for (const [key, field] of Object.entries(optional)) decodeField(key, field, false);
    // Every required field decoded (else errors is not empty) and each holds its decoder's output,
    // which is what StructOf says; TypeScript cannot follow that through the loops.
    return errors.length > 0 ? t.failures(errors) : t.success(out as StructOf<R, O>);
  });
}

function unknownFields(u: Record<string, unknown>, known: string[], c: t.Context): t.Errors {
  return Object.entries(u)
    .filter(([key]) => !known.includes(key))
    .map(([key, value]) => {
      const guess = didYouMean(key, known);
      const hint =
        guess === undefined ? `expected one of ${known.join(', ')}` : `did you mean "${guess}"?`;
      const context = t.appendContext(c, key, UNKNOWN_FIELD, value);
      return { value, context, message: `unknown field (${hint})` };
    });
}

/** A list whose items are all checked, each failure naming its index. */
export function list<A>(
  expected: string,
  item: Dec<A>,
  hint: (u: unknown) => string | undefined = () => undefined,
): Dec<A[]> {
  return decoder(expected, (u, c) => {
    if (!Array.isArray(u)) return t.failure(u, c, expectedGot(expected, u, hint(u)));
    const errors: t.Errors = [];
    const out: A[] = [];
    u.forEach((value: unknown, index) => {
      const result = item.validate(value, t.appendContext(c, String(index), item, value));
      if (isLeft(result)) errors.push(...result.left);
      else out.push(result.right);
    });
    return errors.length > 0 ? t.failures(errors) : t.success(out);
  });
}
