import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './rtc-chromium.js';

export interface BrowserBundle {
  /** The ES module, as served to the page. */
  code: string;
  /** Every file esbuild put in (repository-relative paths, `node:*`, `(disabled):*`...). */
  inputs: string[];
}

/**
 * Bundles `entry` (e.g. `peer/browser/index.ts`) for browsers into one ES module. esbuild with
 * platform 'browser' refuses to resolve Node built-ins, so this fails on a Node-only import.
 */
export async function bundleForBrowser(entry: string): Promise<BrowserBundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
    outfile: 'bundle.js',
  });
  const [output] = result.outputFiles;
  if (!output || result.outputFiles.length !== 1) throw new Error('expected one output file');
  return { code: output.text, inputs: Object.keys(result.metafile.inputs) };
}

export interface ChromiumPage {
  page: Page;
  /** `http://127.0.0.1:<port>`: the loopback server the page came from. */
  origin: string;
  /** Uncaught errors in the page so far. */
  errors: string[];
  /** Closes the browser, the HTTP server and the profile directory. */
  close(): Promise<void>;
}

/**
 * Starts headless Chromium (Debian's, with the quiet flags of `CHROMIUM_ARGS` and a fresh
 * profile) on `/` of a loopback HTTP server that serves `files` (path -> JavaScript or HTML).
 */
export async function launchChromiumPage(files: Record<string, string>): Promise<ChromiumPage> {
  const server = createServer((req, res) => {
    const body = files[req.url ?? ''];
    if (body === undefined) return void res.writeHead(404).end();
    const type = req.url?.endsWith('.js') ? 'text/javascript' : 'text/html';
    res.writeHead(200, { 'content-type': `${type}; charset=utf-8` }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const profile = await mkdtemp(join(tmpdir(), 'meshsync-chromium-'));
  const errors: string[] = [];
  let context: BrowserContext | undefined;
  const close = async (): Promise<void> => {
    await context?.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(profile, { recursive: true, force: true });
  };
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${origin}/`);
    return { page, origin, errors, close };
  } catch (err) {
    await close();
    throw err;
  }
}
