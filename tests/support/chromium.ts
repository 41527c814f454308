import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install -y chromium`); never a browser downloaded by a tool. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export const hasChromium = (): boolean => existsSync(CHROMIUM_PATH);

/**
 * Flags for a quiet headless Chromium in a loopback-only namespace. Without
 * `--allow-loopback-in-peer-connection` (and a media permission, which makes it give raw
 * addresses instead of mDNS names) it gathers no candidate on 127.0.0.1.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection',
];

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
 * With `grantMicrophone` the page may use raw host addresses in its WebRTC candidates; without
 * it, Chromium hides them behind `<uuid>.local` mDNS names.
 */
export async function launchChromiumPage(
  files: Record<string, string>,
  options: { grantMicrophone?: boolean } = {},
): Promise<ChromiumPage> {
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
    if (options.grantMicrophone) await context.grantPermissions(['microphone'], { origin });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${origin}/`);
    return { page, origin, errors, close };
  } catch (err) {
    await close();
    throw err;
  }
}
