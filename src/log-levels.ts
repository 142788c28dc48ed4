/**
 * The agent's log levels, apart from the logger (src/log.ts) so that the CLI, which checks a
 * `--log-level` flag, does not load winston to know them.
 */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];
