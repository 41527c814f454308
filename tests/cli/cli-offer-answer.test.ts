import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliProcess, runCli } from '../support/cli.js';

/*
 * Pairing by hand with no server at all (no signaling, no mDNS): `meshsync offer` prints an
 * offer token, `meshsync answer <token>` prints an answer token, which is pasted into the
 * waiting `offer`; the two connect over WebRTC (werift) and sync. The test passes the tokens as
 * a person would paste them. Loopback-only namespace only (`--ice-loopback`: 127.0.0.1 is the
 * only address there).
 */
const isolated = process.env.MESHSYNC_ISOLATED === '1';
const root = mkdtempSync(join(tmpdir(), 'meshsync-offer-'));
const running: CliProcess[] = [];

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  rmSync(root, { recursive: true, force: true });
});

/** One offer/answer round between two data directories; both commands must succeed. */
async function pairByHand(offering: string, answering: string): Promise<void> {
  const offer = new CliProcess(['offer', '--data', offering, '--ice-loopback']);
  running.push(offer);
  const [, offerToken] = await offer.waitFor(/Offer token:\n(\S+)\n/);
  const answer = new CliProcess([
    'answer',
    offerToken!,
    '--data',
    answering,
    '--ice-loopback',
    '--name',
    'phone',
  ]);
  running.push(answer);
  const [, answerToken] = await answer.waitFor(/Answer token:\n(\S+)\n/);
  offer.write(`${answerToken}\n`);
  expect(await offer.exited, offer.stderr).toBe(0);
  expect(await answer.exited, answer.stderr).toBe(0);
  expect(offer.stdout).toMatch(/Connected to \w+ over WebRTC/);
  expect(answer.stdout).toMatch(/Connected to \w+ over WebRTC/);
}

describe.skipIf(!isolated)('meshsync offer / answer: no server, tokens pasted by hand', () => {
  it('a new device joins through the offer and syncs; then two members sync again', async () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    expect((await runCli(['init', '--data', a, '--name', 'laptop'])).code).toBe(0);
    expect((await runCli(['put', 'notes', 'n1', '{"text":"from a"}', '--data', a])).code).toBe(0);

    // b has no device yet: `answer` creates one and joins with the offer's one-time secret.
    await pairByHand(a, b);
    const got = await runCli(['get', 'notes', 'n1', '--data', b]);
    expect(got.code, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout)).toEqual({ text: 'from a' });

    // Now both are members: b offers, a answers, and b's new record reaches a.
    expect((await runCli(['put', 'notes', 'n2', '{"text":"from b"}', '--data', b])).code).toBe(0);
    await pairByHand(b, a);
    const back = await runCli(['get', 'notes', 'n2', '--data', a]);
    expect(JSON.parse(back.stdout)).toEqual({ text: 'from b' });
    const devices = await runCli(['devices', '--json', '--data', a]);
    expect((JSON.parse(devices.stdout) as unknown[]).length).toBe(2);
  }, 120_000);

  it('an answer for another offer is refused with BAD_TOKEN', async () => {
    const a = join(root, 'x');
    expect((await runCli(['init', '--data', a])).code).toBe(0);
    const first = new CliProcess(['offer', '--data', a, '--ice-loopback']);
    running.push(first);
    const [, token] = await first.waitFor(/Offer token:\n(\S+)\n/);
    const answer = new CliProcess(['answer', token!, '--data', join(root, 'y'), '--ice-loopback']);
    running.push(answer);
    const [, answerToken] = await answer.waitFor(/Answer token:\n(\S+)\n/);
    await answer.stop();
    // A second offer from the same device: the first answer does not fit it.
    const second = new CliProcess(['offer', '--data', join(root, 'x'), '--ice-loopback']);
    running.push(second);
    await second.waitFor(/Offer token:\n(\S+)\n/);
    second.write(`${answerToken}\n`);
    expect(await second.exited).toBe(1);
    expect(second.stderr).toMatch(/\[BAD_TOKEN\]/);
    await first.stop();
  });
});
