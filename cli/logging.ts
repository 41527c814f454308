import { pino, type Logger as Pino } from 'pino';
import PinoPretty from 'pino-pretty';
import type { Logger } from '../shared/log.js';

/**
 * Logs go to stderr (stdout carries each command's output): as text when stderr is a terminal,
 * as JSON lines otherwise. `level` is one of debug, info, warn, error, silent.
 */
export function createLogger(level: string): Pino {
  const stream = process.stderr;
  if (stream.isTTY) {
    const pretty = PinoPretty({
      destination: stream,
      sync: true,
      colorize: true,
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname',
    });
    return pino({ level, base: null }, pretty);
  }
  return pino(
    { level, base: null, formatters: { level: (label) => ({ level: label }) } },
    pino.destination({ fd: 2, sync: true }),
  );
}

/** The library's logger port over pino. */
export function loggerPort(log: Pino): Logger {
  return {
    debug: (message, context) => log.debug(context ?? {}, message),
    info: (message, context) => log.info(context ?? {}, message),
    warn: (message, context) => log.warn(context ?? {}, message),
    error: (message, context) => log.error(context ?? {}, message),
  };
}
