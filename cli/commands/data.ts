import type { Command } from 'commander';
import type { JsonValue } from '../../shared/json.js';
import { CliError } from '../cli-error.js';
import { contextOf } from '../context.js';
import type { ControlRequest } from '../control-protocol.js';
import { parsePositive, withDataOptions, type CommonOptions } from '../options.js';
import { runOp } from '../run-op.js';

/*
 * put, get, ls and rm: records as JSON in and out. With `meshsync start` running on the same
 * data directory they go through its control socket (the running peer writes, and syncs the
 * change at once); otherwise they open the SQLite store here.
 */

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new CliError('USAGE', 'the value is not valid JSON');
  }
}

async function run(options: CommonOptions, request: ControlRequest): Promise<void> {
  const ctx = contextOf(options);
  const { result } = await runOp(ctx.dir, request, ctx.logger);
  ctx.print(JSON.stringify(result));
}

export function dataCommands(program: Command): void {
  withDataOptions(
    program
      .command('put')
      .description('write a record (a JSON object, from the argument or stdin)')
      .argument('<collection>')
      .argument('<id>')
      .argument('[json]', 'the record; "-" or nothing reads stdin')
      .option('--patch', 'change only the fields given, keep the others'),
  ).action(
    async (
      collection: string,
      id: string,
      json: string | undefined,
      options: CommonOptions & { patch?: boolean },
    ) => {
      const value = parseJson(json === undefined || json === '-' ? await readStdin() : json);
      await run(options, { op: 'put', collection, id, value, patch: options.patch === true });
    },
  );

  withDataOptions(
    program
      .command('get')
      .description('print a record as JSON (exit 1, NOT_FOUND, if there is none)')
      .argument('<collection>')
      .argument('<id>'),
  ).action((collection: string, id: string, options: CommonOptions) =>
    run(options, { op: 'get', collection, id }),
  );

  withDataOptions(
    program
      .command('ls')
      .description('list records as a JSON array of {id, value}, in id order')
      .argument('<collection>')
      .option('--after <id>', 'start after this id')
      .option('--limit <n>', 'at most this many records', parsePositive),
  ).action((collection: string, options: CommonOptions & { after?: string; limit?: number }) =>
    run(options, {
      op: 'ls',
      collection,
      ...(options.after !== undefined ? { after: options.after } : {}),
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
    }),
  );

  withDataOptions(
    program
      .command('rm')
      .description('delete a record (exit 1, NOT_FOUND, if there is none)')
      .argument('<collection>')
      .argument('<id>'),
  ).action((collection: string, id: string, options: CommonOptions) =>
    run(options, { op: 'rm', collection, id }),
  );
}
