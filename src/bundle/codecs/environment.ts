import * as t from 'io-ts';
import { decoder, expectedGot, type Dec } from './decoder';
import { isPlainMapping, UNKNOWN_FIELD } from './struct';
import { ENV_NAME } from './leaves';

/**
 * A variable as written. List items are always text; map values may still be YAML numbers,
 * booleans or empty, and are turned into text from their source later (so `1.10` stays `1.10`).
 */
export interface RawVariable {
  name: string;
  value: string | number | boolean | null;
}

const EXPECTED = 'a list of KEY=value or a mapping of KEY: value';
const ITEM = /^([^=]*)=(.*)$/s;
const NAME_RULE = 'names are letters, digits and "_", not starting with a digit';

/** `environment:` in either of Compose's two forms. */
export const environment: Dec<RawVariable[]> = decoder(EXPECTED, (u, c) => {
  if (Array.isArray(u)) return fromList(u, c);
  if (isPlainMapping(u)) return fromMapping(u, c);
  return t.failure(u, c, expectedGot(EXPECTED, u));
});

function fromList(items: unknown[], c: t.Context): t.Validation<RawVariable[]> {
  const errors: t.Errors = [];
  const out: RawVariable[] = [];
  items.forEach((item: unknown, index) => {
    const context = t.appendContext(c, String(index), environment, item);
    const match = typeof item === 'string' ? ITEM.exec(item) : null;
    const name = match?.[1];
    if (name === undefined || !ENV_NAME.test(name)) {
      errors.push({
        value: item,
        context,
        message: expectedGot('KEY=value', item, itemHint(item)),
      });
    } else {
      out.push({ name, value: match?.[2] ?? '' });
    }
  });
  return errors.length > 0 ? t.failures(errors) : t.success(out);
}

function itemHint(item: unknown): string | undefined {
  if (typeof item !== 'string') return undefined;
  // Compose reads a bare `KEY` as "copy from the CLI's environment"; a .bun is the same everywhere.
  if (ENV_NAME.test(item)) return `write ${item}= for an empty value`;
  return NAME_RULE;
}

function fromMapping(map: Record<string, unknown>, c: t.Context): t.Validation<RawVariable[]> {
  const errors: t.Errors = [];
  const out: RawVariable[] = [];
  for (const [name, value] of Object.entries(map)) {
    if (!ENV_NAME.test(name)) {
      const context = t.appendContext(c, name, UNKNOWN_FIELD, value);
      errors.push({ value, context, message: `not a variable name (${NAME_RULE})` });
    } else if (
      typeof value === 'string' ||
      typeof value === 'number' ||
      typeof value === 'boolean' ||
      value === null
    ) {
      out.push({ name, value });
    } else {
      const context = t.appendContext(c, name, environment, value);
      errors.push({ value, context, message: expectedGot('a single value', value) });
    }
  }
  return errors.length > 0 ? t.failures(errors) : t.success(out);
}
