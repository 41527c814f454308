import { qrTerminal } from '../shared/qr/index.js';
import type { CliContext } from './context.js';

/**
 * Shows a token for another device: a QR code (UTF-8 half blocks, two module rows per line,
 * dark modules inked, so it scans off a light background and decodes back from the text) and
 * the token itself for pasting.
 */
export function printToken(ctx: CliContext, label: string, token: string): void {
  ctx.print(qrTerminal(token, { margin: 2 }));
  ctx.print(`${label}:`);
  ctx.print(token);
}
