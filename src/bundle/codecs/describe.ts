/** What was found, for the "got …" half of a message: short, and quoted when it is text. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing (the field is required)';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}
