import type { Logger } from '../shared/log.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/**
 * Structured logs: one JSON object per line (`time`, `level`, `msg`, then the context fields),
 * ready for any log collector. Context values that are not JSON (errors, bigints) are turned
 * into text rather than dropped.
 */
export function jsonLogger(write: (line: string) => void, level: LogLevel = 'info'): Logger {
  const min = RANK[level];
  const log =
    (name: Exclude<LogLevel, 'silent'>) =>
    (msg: string, context?: Record<string, unknown>): void => {
      if (RANK[name] < min) return;
      const entry = { time: new Date().toISOString(), level: name, msg, ...context };
      write(JSON.stringify(entry, replacer) + '\n');
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return code === undefined ? value.message : { code, message: value.message };
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}
