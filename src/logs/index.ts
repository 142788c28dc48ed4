/** Containers' log files (the shim appends stdout and stderr): tail, follow, interleave, times. */
export { readLog, type ReadLogOptions } from './read-log';
export { mergeLogs, type LogSource, type TaggedChunk } from './merge';
export { LogClock, offsetSince } from './log-clock';
