import winston from 'winston';
import { LOG_LEVELS, type LogLevel } from './log-levels';

export type Logger = winston.Logger;
export type { LogLevel } from './log-levels';

export interface LoggerOptions {
  level: LogLevel;
  /** A file to append JSON lines to, besides stderr. */
  file?: string;
}

/**
 * The one root logger of a process. Components take a child (`log.child({ component: 'proxy' })`)
 * through their constructor; nothing logs through a module-level logger.
 */
export function createLogger(options: LoggerOptions): Logger {
  const transports: winston.transport[] = [
    new winston.transports.Console({
      stderrLevels: [...LOG_LEVELS],
      format: winston.format.combine(
        winston.format.timestamp(),
        winston.format.printf(({ timestamp, level, message, ...meta }) => {
          const rest = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : '';
          return `${String(timestamp)} ${level} ${String(message)}${rest}`;
        }),
      ),
    }),
  ];
  if (options.file !== undefined) {
    transports.push(
      new winston.transports.File({
        filename: options.file,
        format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
      }),
    );
  }
  return winston.createLogger({ level: options.level, transports });
}

/** A logger that drops everything, for tests and library callers that want silence. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
}
