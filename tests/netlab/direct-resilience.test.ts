import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLab, labAvailable, nftLoad, type Lab } from '../support/netns.js';
import {
  blockRules,
  DIRECT_PORT,
  LabPeer,
  pairedDbs,
  signalUrl,
  startSignal,
  until,
} from './manager-lab.js';

/*
 * Direct paths across two hosts (network namespaces joined by a veth), each host running a whole
 * peer in a child process: either side starts and both directions flow; a peer restarted in the
 * middle of a sync reconnects and converges; a dead signaling server does not stop a pair that
 * has a direct path.
 */

const labs: Lab[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const lab of labs.splice(0)) await lab.destroy();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function setup(): Promise<{ lab: Lab; dbs: { a: string; b: string } }> {
  const lab = await createLab({ subnet: '10.79.0' });
  labs.push(lab);
  const dir = mkdtempSync(join(tmpdir(), 'meshsync-direct-'));
  dirs.push(dir);
  return { lab, dbs: await pairedDbs(dir) };
}

if (process.env.MESHSYNC_REQUIRE_NETLAB === '1' && !labAvailable()) {
  it('a network lab can be made (MESHSYNC_REQUIRE_NETLAB)', () => {
    throw new Error('no network lab: see tests/netlab/stray-traffic.test.ts');
  });
}

describe.skipIf(!labAvailable())('direct paths across two hosts', () => {
  it('only A can reach B: changes made on either side reach the other', async () => {
    const { lab, dbs } = await setup();
    // B listens; A does not, and has no signaling: A's dial is the only way between them.
    const b = new LabPeer(lab, lab.b, { db: dbs.b, listen: { host: lab.b.ip, port: DIRECT_PORT } });
    const bDevice = await b.ready();
    const a = new LabPeer(lab, lab.a, {
      db: dbs.a,
      dial: [{ device: bDevice, host: lab.b.ip, port: DIRECT_PORT }],
    });
    await a.ready();
    await until('connected', async () => (await a.peerStatus(bDevice))?.state === 'connected');
    await b.ask({ op: 'put', collection: 't', id: 'made-on-b', value: { side: 'b' } });
    await a.ask({ op: 'put', collection: 't', id: 'made-on-a', value: { side: 'a' } });
    await until('both records on both sides', async () => {
      return (await a.count('t')) === 2 && (await b.count('t')) === 2;
    });
    expect(await b.peerStatus(a.device)).toMatchObject({
      transport: 'websocket',
      startedBy: 'them',
    });
    expect(await a.peerStatus(bDevice)).toMatchObject({ transport: 'websocket', startedBy: 'us' });
  }, 60_000);

  it('a peer restarted mid-sync reconnects and the pair converges', async () => {
    const { lab, dbs } = await setup();
    const listen = { host: lab.b.ip, port: DIRECT_PORT };
    let b = new LabPeer(lab, lab.b, { db: dbs.b, listen });
    const bDevice = await b.ready();
    await b.ask({ op: 'fill', collection: 'big', prefix: 'b', count: 30_000, size: 1000 }, 60_000);
    const a = new LabPeer(lab, lab.a, {
      db: dbs.a,
      dial: [{ device: bDevice, host: lab.b.ip, port: DIRECT_PORT }],
    });
    await a.ready();
    // Kill B once A holds some but not all of the records.
    await until('mid-sync', async () => (await a.count('big')) > 0, 60_000);
    const partial = await a.count('big');
    b.kill();
    expect(partial).toBeLessThan(30_000);
    b = new LabPeer(lab, lab.b, { db: dbs.b, listen });
    await b.ready();
    await until('converged', async () => (await a.count('big')) === 30_000, 90_000);
    await b.ask({ op: 'put', collection: 't', id: 'after-restart', value: { ok: true } });
    await until('a later change', async () => (await a.count('t')) === 1);
  }, 180_000);

  it('the signaling server dies: a pair with a direct path keeps syncing', async () => {
    const { lab, dbs } = await setup();
    const signal: ChildProcess = await startSignal(lab, lab.a);
    // UDP is dropped, so the pair runs over the direct WebSocket while signaling is up.
    await nftLoad(lab, lab.b, blockRules());
    const common = { signal: signalUrl(lab.a), rtc: 'werift' as const, connectTimeoutMs: 3000 };
    const a = new LabPeer(lab, lab.a, {
      ...common,
      db: dbs.a,
      listen: { host: lab.a.ip, port: DIRECT_PORT },
    });
    const b = new LabPeer(lab, lab.b, {
      ...common,
      db: dbs.b,
      listen: { host: lab.b.ip, port: DIRECT_PORT },
    });
    await Promise.all([a.ready(), b.ready()]);
    await until(
      'connected',
      async () => (await a.peerStatus(b.device))?.state === 'connected',
      45_000,
    );
    signal.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    await a.ask({ op: 'put', collection: 't', id: 'no-signaling', value: { v: 1 } });
    await b.ask({ op: 'put', collection: 't', id: 'still-none', value: { v: 2 } });
    await until('both ways without signaling', async () => {
      return (await a.count('t')) === 2 && (await b.count('t')) === 2;
    });
    expect((await a.peerStatus(b.device))?.transport).toBe('websocket');
  }, 90_000);
});
