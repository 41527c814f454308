import type { Logger as Pino } from 'pino';
import type { Logger } from '../shared/log.js';
import { dataDir, type DataDir } from './data-dir.js';
import { createLogger, loggerPort } from './logging.js';
import { dataDirOf, type CommonOptions } from './options.js';

/** What every device command works with: its data directory, its logs and its output. */
export interface CliContext {
  dir: DataDir;
  log: Pino;
  logger: Logger;
  json: boolean;
  /** Writes a line (or lines) to stdout. */
  print(text: string): void;
  /** Writes a value as JSON to stdout. */
  printJson(value: unknown): void;
}

export function contextOf(options: CommonOptions, defaultLevel = 'warn'): CliContext {
  const log = createLogger(options.logLevel ?? defaultLevel);
  return {
    dir: dataDir(dataDirOf(options)),
    log,
    logger: loggerPort(log),
    json: options.json === true,
    print: (text) => void process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
    printJson: (value) => void process.stdout.write(JSON.stringify(value, null, 2) + '\n'),
  };
}
