/** True when `err` is a Node system error with this code (no instanceof: jest runs in its own realm). */
export function hasCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === code;
}
