import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import nacl from 'tweetnacl';
import { nodeWebSocket } from '../../peer/node/web-socket.js';
import { RelayChannels } from '../../peer/signaling/relay-channels.js';
import {
  SignalingClient,
  type SignalingClientEvents,
} from '../../peer/signaling/signaling-client.js';
import type { Transport } from '../../peer/transport/transport-port.js';
import { fromBase64url, toBase64url } from '../../shared/crypto/bytes.js';
import { generateIdentity } from '../../shared/crypto/identity.js';
import type { DeviceId } from '../../shared/ids.js';
import { roomKeys, type RoomKeys } from '../../shared/secure/room.js';
import { SignalOpener, openJsonSignal, sealJsonSignal } from '../../shared/secure/signal-seal.js';
import { createSignalingServer, type SignalingServer } from '../../signaling/server.js';
import { bundleForBrowser, type BrowserBundle } from '../support/browser-bundle.js';
import { hasChromium, launchChromiumPage, type ChromiumPage } from '../support/chromium.js';

/**
 * The signaling client is isomorphic: the real browser entry (`meshsync/browser`), bundled for
 * browsers, runs in headless Chromium with the native WebSocket and talks through a real
 * signaling server to a Node client using `ws`. Run inside a loopback-only namespace
 * (`npm test`, or `/work/shared/tools/isolated npx vitest run ...`): Chromium must not touch a
 * real interface, so outside one this suite skips.
 */
const isolated = process.env.MESHSYNC_ISOLATED === '1';
const ENTRY = 'peer/browser/index.ts';
/** Over the relay's payload limit (64 KiB by default): the relay must chunk it. */
const LARGE = 200 * 1024;
/** Longest wait for one event in the page. */
const WAIT_MS = 5000;

/**
 * The page's side, a module importing the bundled entry. Sessions by id; every call takes and
 * returns plain JSON. Events are queued by kind (`online`, `offline`, `signal`, `frame`...) and
 * taken with `next(id, kind)`, which fails with the session's log after WAIT_MS.
 */
const HARNESS = `
import * as m from '/meshsync.js';
const sessions = new Map();
// crypto.getRandomValues takes at most 65536 bytes at a time.
const random = (n) => {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536) crypto.getRandomValues(out.subarray(at, Math.min(n, at + 65536)));
  return out;
};
const push = (s, kind, event) => {
  s.log.push(kind);
  const waiter = s.waiting[kind]?.shift();
  if (waiter) waiter(event);
  else (s.queued[kind] ??= []).push(event);
};
window.harness = {
  environment() {
    return { process: typeof process, Buffer: typeof Buffer, WebSocket: typeof WebSocket };
  },
  async start(id, url, secretText) {
    const secret = m.fromBase64url(secretText);
    const keys = m.roomKeys(secret);
    const identity = m.generateIdentity(random);
    let opened = 0;
    const webSocket = (u) => {
      const socket = m.browserWebSocket(u);
      if (!(socket instanceof WebSocket)) throw new Error('browserWebSocket is not the native one');
      opened++;
      return socket;
    };
    const client = new m.SignalingClient({ url, identity, webSocket });
    const relay = new m.RelayChannels(client);
    const opener = new m.SignalOpener(secret, identity.device);
    const s = { client, relay, secret, identity, keys, transport: null, log: [], queued: {}, waiting: {} };
    sessions.set(id, s);
    client.on('online', ({ room, device }) => push(s, 'online', { room, device }));
    client.on('offline', ({ room, device }) => push(s, 'offline', { room, device }));
    client.on('signal', ({ room, from, data }) => {
      try {
        const o = m.openJsonSignal(opener, data);
        push(s, 'signal', { room, from, opened: o.from, value: o.value });
      } catch (err) {
        push(s, 'signal-refused', { room, from, code: err.code });
      }
    });
    relay.on('incoming', ({ room, from, transport }) => {
      s.transport = transport;
      transport.on('message', (frame) => push(s, 'frame', { from, data: m.toBase64url(frame) }));
      transport.on('close', ({ reason }) => push(s, 'close', { reason }));
      push(s, 'incoming', { room, from });
    });
    const members = await client.join(keys);
    return {
      device: identity.device,
      room: keys.roomId,
      members,
      state: client.state,
      sockets: opened,
      maxRelayPayload: client.maxRelayPayload,
    };
  },
  next(id, kind) {
    const s = sessions.get(id);
    const queued = s.queued[kind]?.shift();
    if (queued) return queued;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error('no ' + kind + ' within ${WAIT_MS} ms; events: ' + s.log.join(',')));
      }, ${WAIT_MS});
      (s.waiting[kind] ??= []).push((event) => {
        clearTimeout(timer);
        resolve(event);
      });
    });
  },
  async signal(id, to, value) {
    const s = sessions.get(id);
    await s.client.signal(s.keys.roomId, to, m.sealJsonSignal(s.secret, s.identity, to, value));
  },
  /** Sends fresh random frames of these sizes on the incoming relay channel; returns them. */
  async sendFrames(id, sizes) {
    const s = sessions.get(id);
    const frames = sizes.map((n) => random(n));
    await Promise.all(frames.map((f) => s.transport.send(f)));
    return frames.map((f) => m.toBase64url(f));
  },
  stop(id) {
    sessions.get(id)?.client.stop();
  },
  stopAll() {
    for (const s of sessions.values()) s.client.stop();
  },
};
`;

const HTML = `<!doctype html><meta charset="utf-8"><title>meshsync signaling</title>
<script type="module">${HARNESS}</script>`;

interface PageSession {
  device: DeviceId;
  room: string;
  members: DeviceId[];
  state: string;
  sockets: number;
  maxRelayPayload: number;
}

let bundle: BrowserBundle | undefined;
const getBundle = async (): Promise<BrowserBundle> => (bundle ??= await bundleForBrowser(ENTRY));

describe('the browser bundle of meshsync/browser', () => {
  it('bundles for platform browser with the signaling client and no Node-only input', async () => {
    const { code, inputs } = await getBundle();
    for (const file of [
      ENTRY,
      'peer/browser/web-socket.ts',
      'peer/signaling/signaling-client.ts',
      'peer/signaling/relay-channels.ts',
    ]) {
      expect(inputs).toContain(file);
    }
    expect(nodeOnlyInputs(inputs)).toEqual([]);
    expect(code).toContain('SignalingClient');
  });

  it('the check has teeth: Node built-ins fail to bundle, and a Node adapter is flagged', async () => {
    // better-sqlite3 needs fs and path: esbuild refuses them for platform browser.
    await expect(bundleForBrowser('peer/node/index.ts')).rejects.toThrow(/Could not resolve/);
    // `ws` has a browser stub, so its adapter bundles; the input check catches it.
    const { inputs } = await bundleForBrowser('peer/node/web-socket.ts');
    expect(nodeOnlyInputs(inputs).sort()).toEqual([
      'node_modules/ws/browser.js',
      'peer/node/web-socket.ts',
    ]);
  });
});

// CI installs Chromium (.ci/run) and sets MESHSYNC_REQUIRE_CHROMIUM, so there a missing browser
// fails instead of skipping.
if (process.env.MESHSYNC_REQUIRE_CHROMIUM === '1' && !hasChromium()) {
  it('Chromium is installed (MESHSYNC_REQUIRE_CHROMIUM)', () => {
    throw new Error('/usr/bin/chromium is missing: apt-get install chromium');
  });
}

describe.skipIf(!isolated || !hasChromium())('signaling between Chromium and Node', () => {
  let browser: ChromiumPage | undefined;
  let server: SignalingServer | undefined;
  const nodeClients: SignalingClient[] = [];
  let sessions = 0;

  beforeAll(async () => {
    const [{ code }, started] = await Promise.all([
      getBundle(),
      createSignalingServer({ port: 0, host: '127.0.0.1' }),
    ]);
    server = started;
    browser = await launchChromiumPage({ '/': HTML, '/meshsync.js': code });
    await browser.page.waitForFunction('window.harness !== undefined', undefined, {
      timeout: WAIT_MS,
    });
  });

  afterEach(async () => {
    for (const client of nodeClients.splice(0)) client.stop();
    await browser?.page.evaluate('window.harness.stopAll()');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Calls `window.harness[method](...args)` in the page; arguments and result are JSON. */
  const call = async <T>(method: string, ...args: unknown[]): Promise<T> => {
    if (!browser) throw new Error('Chromium did not start');
    const list = args.map((a) => JSON.stringify(a)).join(', ');
    return browser.page.evaluate<T>(`window.harness.${method}(${list})`);
  };

  /** A Node client and a page client in a fresh room of a fresh mesh secret. */
  async function pair() {
    if (!server) throw new Error('no signaling server');
    const secret = nacl.randomBytes(32);
    const room: RoomKeys = roomKeys(secret);
    const identity = generateIdentity((n) => nacl.randomBytes(n));
    const node = new SignalingClient({ url: server.url, identity, webSocket: nodeWebSocket });
    nodeClients.push(node);
    expect(await node.join(room)).toEqual([]);
    const id = `s${sessions++}`;
    const [page, online] = await Promise.all([
      call<PageSession>('start', id, server.url, toBase64url(secret)),
      nextEvent(node, 'online'),
    ]);
    return { id, secret, room, identity, node, page, online };
  }

  it('runs in a browser: no process or Buffer, a native WebSocket', async () => {
    expect(await call('environment')).toEqual({
      process: 'undefined',
      Buffer: 'undefined',
      WebSocket: 'function',
    });
  });

  it('each side sees the other come online', async () => {
    const { id, room, node, page, online } = await pair();
    expect(page.state).toBe('open');
    expect(page.sockets).toBe(1);
    expect(page.room).toBe(room.roomId);
    expect(page.members).toEqual([node.device]);
    expect(page.device).not.toBe(node.device);
    expect(online).toEqual({ room: room.roomId, device: page.device });
    expect(await call('next', id, 'online')).toEqual({ room: room.roomId, device: node.device });
    expect(node.members(room.roomId)).toEqual([page.device]);
    expect(browser?.errors).toEqual([]);
  });

  it('carries sealed signals both ways, opened and verified, from the sender', async () => {
    const { id, secret, room, identity, node, page } = await pair();

    // Page to Node.
    const atNode = nextEvent(node, 'signal');
    await call('signal', id, node.device, { sdp: 'from the page', n: 1 });
    const got = await atNode;
    expect(got.from).toBe(page.device);
    const opened = openJsonSignal(new SignalOpener(secret, node.device), got.data);
    expect(opened.from).toBe(page.device);
    expect(opened.value).toEqual({ sdp: 'from the page', n: 1 });

    // Node to page.
    const value = { sdp: 'from node', candidates: ['a', 'b'] };
    await node.signal(
      room.roomId,
      page.device,
      sealJsonSignal(secret, identity, page.device, value),
    );
    expect(await call('next', id, 'signal')).toEqual({
      room: room.roomId,
      from: node.device,
      opened: node.device,
      value,
    });

    // The page's opener refuses a signal sealed under another mesh's secret.
    const foreign = sealJsonSignal(nacl.randomBytes(32), identity, page.device, value);
    await node.signal(room.roomId, page.device, foreign);
    expect(await call('next', id, 'signal-refused')).toEqual({
      room: room.roomId,
      from: node.device,
      code: 'BAD_SEAL',
    });
    expect(browser?.errors).toEqual([]);
  });

  it('a relay channel from Node to the page carries frames both ways, large ones chunked', async () => {
    const { id, room, node, page } = await pair();
    expect(LARGE).toBeGreaterThan(node.maxRelayPayload);
    expect(LARGE).toBeGreaterThan(page.maxRelayPayload);
    const relay = new RelayChannels(node);
    const transport = relay.open(room.roomId, page.device);
    const atNode: Uint8Array[] = [];
    transport.on('message', (frame) => atNode.push(frame.slice()));
    // The relay channel's header is 5 bytes: exactly one chunk, then one byte into a second.
    const sizes = [0, 1, 1000, node.maxRelayPayload - 5, node.maxRelayPayload - 4, LARGE];

    // Node to page.
    const sent = sizes.map((n) => nacl.randomBytes(n));
    await Promise.all(sent.map((f) => transport.send(f)));
    expect(await call('next', id, 'incoming')).toEqual({ room: room.roomId, from: node.device });
    for (const frame of sent) {
      const got = await call<{ from: DeviceId; data: string }>('next', id, 'frame');
      expect(got.from).toBe(node.device);
      expect(equalBytes(fromBase64url(got.data), frame)).toBe(true);
    }

    // Page to Node.
    const fromPage = (await call<string[]>('sendFrames', id, [...sizes].reverse())).map((t) =>
      fromBase64url(t),
    );
    await until(() => atNode.length >= fromPage.length);
    expect(atNode.map((f) => f.length)).toEqual([...sizes].reverse());
    fromPage.forEach((frame, i) => expect(equalBytes(atNode[i]!, frame)).toBe(true));
    relay.stop();
    expect(browser?.errors).toEqual([]);
  });

  it('when the page stops, Node sees it go offline and its relay channel closes', async () => {
    const { id, room, node, page } = await pair();
    const relay = new RelayChannels(node);
    const transport: Transport = relay.open(room.roomId, page.device);
    const closed = new Promise<{ reason: string }>((resolve) => transport.on('close', resolve));
    await call('next', id, 'incoming');
    const offline = nextEvent(node, 'offline');
    await call('stop', id);
    expect(await offline).toEqual({ room: room.roomId, device: page.device });
    expect((await closed).reason).toMatch(/offline/);
    expect(node.members(room.roomId)).toEqual([]);
    expect(node.state).toBe('open');
    relay.stop();
  });
});

/** Inputs of a browser bundle that only make sense in Node (or on the server). */
function nodeOnlyInputs(inputs: string[]): string[] {
  return inputs.filter(
    (f) =>
      f.startsWith('node:') ||
      f.startsWith('peer/node/') ||
      f.startsWith('signaling/') ||
      f.includes('node_modules/ws/'),
  );
}

/** The next `event` of a client, or a failure after WAIT_MS. */
function nextEvent<K extends 'online' | 'offline' | 'signal'>(
  client: SignalingClient,
  event: K,
): Promise<SignalingClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${event} within ${WAIT_MS} ms`));
    }, WAIT_MS);
    const off = client.on(event, (payload) => {
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function until(check: () => boolean, ms = WAIT_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
