/** Structured logging port; Node adapters plug pino in, tests capture entries. */
export interface Logger {
  debug(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

const noop = (): void => {};

/** Default logger: warnings and errors to the console, the rest dropped. */
export const consoleLogger: Logger = {
  debug: noop,
  info: noop,
  warn: (message, context) => console.warn(`meshsync: ${message}`, context ?? ''),
  error: (message, context) => console.error(`meshsync: ${message}`, context ?? ''),
};

/** A logger that drops everything. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
