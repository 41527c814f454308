import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { toBase64url } from '../../shared/crypto/bytes.js';
import type { ErrorCode } from '../../shared/errors.js';
import { identityFromSeed } from '../../shared/crypto/identity.js';
import type { DeviceId } from '../../shared/ids.js';
import { deviceJoinProof, roomJoinProof, roomKeys } from '../../shared/secure/room.js';
import { CLOSE_CODES, MAX_TEXT_MESSAGE } from '../../shared/signaling/messages.js';
import { encodeRelayFrame } from '../../shared/signaling/relay-frame.js';
import {
  httpGet,
  sealedData,
  signalingHarness,
  until,
  type Of,
  type RawClient,
  type Received,
} from '../support/signaling-raw.js';

/**
 * 10,000 hostile frames from several connections, with rate limits high enough that every one
 * reaches the parser, while two members of another room keep talking.
 */
const h = signalingHarness();
const SEED = 20_251_122;
const FRAMES = 10_000;
const ANSWERS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'BAD_MESSAGE',
  'UNKNOWN_MESSAGE',
  'BAD_FRAME',
  'FRAME_TOO_LARGE',
  'PROTOCOL_STATE',
  'NOT_FOUND',
  'JOIN_REFUSED',
]);

type Frame = string | Uint8Array;
/** A frame, and whether it is a join (failed joins may close a connection: sent apart). */
type Tagged = [Frame, boolean];

interface Context {
  rooms: string[];
  devices: DeviceId[];
  /** Valid messages, as objects. */
  templates: Record<string, unknown>[];
  join: Record<string, unknown>;
}

const CHARS =
  '{}[]":,\\ 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_=+/\u0000\u00e9';

/** One change to a text: replace, insert or delete a character, or cut it short. */
const mutation = fc.tuple(fc.constantFrom('set', 'insert', 'delete', 'cut'), fc.nat(), fc.nat());
function mutate(text: string, steps: [string, number, number][]): string {
  for (const [op, at, c] of steps) {
    const i = at % (text.length + 1);
    const ch = CHARS[c % CHARS.length]!;
    if (op === 'set') text = text.slice(0, i) + ch + text.slice(i + 1);
    else if (op === 'insert') text = text.slice(0, i) + ch + text.slice(i);
    else if (op === 'delete') text = text.slice(0, i) + text.slice(i + 1);
    else text = text.slice(0, i);
  }
  return text;
}

function frames(ctx: Context): Tagged[] {
  const templateText = fc.constantFrom(...ctx.templates.map((t) => JSON.stringify(t)));
  const tag = (join: boolean) => (a: fc.Arbitrary<Frame>) =>
    a.map((frame): Tagged => [frame, join]);
  const [plain, joins] = [tag(false), tag(true)];
  /** A template with a field of the wrong type, an extra field, or one missing. */
  const reshaped = (templates: Record<string, unknown>[]) =>
    fc
      .tuple(
        fc.constantFrom(...templates),
        fc.nat(),
        fc.jsonValue({ maxDepth: 2 }),
        fc.constantFrom('replace', 'extra', 'drop'),
      )
      .map(([template, k, value, how]) => {
        const copy: Record<string, unknown> = { ...template };
        const keys = Object.keys(copy);
        const key = keys[k % keys.length]!;
        if (how === 'replace') copy[key] = value;
        else if (how === 'drop') delete copy[key];
        else copy[`x${k % 7}`] = value;
        return JSON.stringify(copy);
      });
  const relayFrame = fc
    .record({
      room: fc.constantFrom(...ctx.rooms),
      device: fc.constantFrom(...ctx.devices),
      payload: fc.uint8Array({ maxLength: 100 }),
      flip: fc.option(fc.tuple(fc.nat(), fc.nat({ max: 255 }))),
    })
    .map(({ room, device, payload, flip }) => {
      const bytes = encodeRelayFrame(room, device, payload);
      if (flip) bytes[flip[0] % bytes.length] = flip[1];
      return bytes;
    });
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const badProof = fc
    .tuple(fc.constantFrom('proof', 'sig', 'key'), fc.nat(85), fc.nat(63))
    .map(([field, at, c]) => {
      const value = ctx.join[field] as string;
      const i = at % value.length;
      return JSON.stringify({
        ...ctx.join,
        [field]: value.slice(0, i) + B64[c] + value.slice(i + 1),
      });
    });
  const arb: fc.Arbitrary<Tagged> = fc.oneof(
    { weight: 15, arbitrary: plain(fc.uint8Array({ maxLength: 300 })) },
    { weight: 15, arbitrary: plain(relayFrame) },
    { weight: 15, arbitrary: plain(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v))) },
    { weight: 10, arbitrary: plain(fc.string({ unit: 'binary', maxLength: 200 })) },
    {
      weight: 25,
      arbitrary: plain(
        fc
          .tuple(templateText, fc.array(mutation, { minLength: 1, maxLength: 4 }))
          .map(([text, steps]) => mutate(text, steps)),
      ),
    },
    { weight: 15, arbitrary: plain(reshaped(ctx.templates)) },
    {
      // over the protocol's text maximum (under the socket's)
      weight: 1,
      arbitrary: plain(
        fc
          .integer({ min: MAX_TEXT_MESSAGE + 1, max: MAX_TEXT_MESSAGE + 3000 })
          .map((n) => `{"t":"leave","room":"${'A'.repeat(n)}"}`),
      ),
    },
    { weight: 1, arbitrary: joins(reshaped([ctx.join])) },
    { weight: 1, arbitrary: joins(badProof) },
  );
  return fc.sample(arb, { numRuns: FRAMES, seed: SEED });
}

// Fixed keys, so that the frames can be made before the test starts.
const seeded = (n: number) => new Uint8Array(32).fill(n);
const victimRoom = roomKeys(seeded(1));
const attackRoom = roomKeys(seeded(2));
const [va, vb, a0, a1, a2, stranger] = [3, 4, 5, 6, 7, 8].map((n) => identityFromSeed(seeded(n)));
const challenge = seeded(9); // joins go to connections with other challenges: all fail
const CTX: Context = {
  rooms: [victimRoom.roomId, attackRoom.roomId, roomKeys(seeded(10)).roomId],
  devices: [va!.device, vb!.device, a0!.device, a1!.device, a2!.device, stranger!.device],
  templates: [
    { t: 'leave', room: attackRoom.roomId },
    { t: 'leave', room: victimRoom.roomId },
    { t: 'signal', room: attackRoom.roomId, to: a1!.device, data: sealedData() },
    { t: 'signal', room: attackRoom.roomId, to: va!.device, data: sealedData() },
    { t: 'signal', room: victimRoom.roomId, to: vb!.device, data: sealedData() },
    { t: 'signal', room: attackRoom.roomId, to: stranger!.device, data: sealedData(9) },
  ],
  join: {
    t: 'join',
    room: attackRoom.roomId,
    key: toBase64url(a0!.publicKey),
    proof: roomJoinProof(attackRoom, challenge),
    sig: deviceJoinProof(a0!, attackRoom.roomId, challenge),
  },
};

describe('signaling fuzz', { timeout: 30_000 }, () => {
  let fuzz: Tagged[] = [];
  beforeAll(() => {
    fuzz = frames(CTX);
  });

  it(`${FRAMES} fuzzed frames: only coded answers, and another room sees no change`, async () => {
    expect(fuzz.filter(([, isJoin]) => isJoin).length).toBeGreaterThan(50);
    const server = await h.start({ messagesPerSecond: 1_000_000, bytesPerSecond: 1_000_000_000 });
    const [A, B] = [await h.member(server, victimRoom, va), await h.member(server, victimRoom, vb)];
    await A.client.nextOf('online');
    const victimMarks = [A.client.mark(), B.client.mark()];
    const attackers: RawClient[] = [];
    for (const id of [a0, a1, a2]) attackers.push((await h.member(server, attackRoom, id)).client);
    for (let i = 0; i < 3; i++) attackers.push(await h.connect(server));
    const attackerMarks = attackers.map((a) => a.mark());

    // Join-shaped frames go to throwaway connections: failed joins may get one closed.
    const joiners: RawClient[] = [];
    const isAnswer = (m: Received): m is Of<'error'> | Of<'joined'> =>
      m.t === 'error' || m.t === 'joined';
    async function sendJoin(frame: string): Promise<void> {
      for (;;) {
        let joiner = joiners.at(-1);
        if (!joiner?.isOpen) joiners.push((joiner = await h.connect(server)));
        joiner.send(frame);
        const answered = joiner.next(isAnswer).then(() => true);
        if (await Promise.race([answered, joiner.closed.then(() => false)])) return;
      }
    }

    const sent = { ab: [] as string[], ba: [] as string[], relays: 0, plain: 0 };
    let barriers = 0;
    for (const [k, [frame, isJoin]] of fuzz.entries()) {
      const attacker = attackers[k % attackers.length]!;
      if (isJoin) await sendJoin(frame as string);
      else if (typeof frame === 'string') attacker.send(frame);
      else attacker.sendBinary(frame);
      if (!isJoin) sent.plain++;
      if (k % 100 === 99) {
        sent.ab.push(A.client.signal(victimRoom, B.device));
        sent.ba.push(B.client.signal(victimRoom, A.device));
        A.client.relay(victimRoom, B.device, Buffer.from(String(k)));
        sent.relays++;
      }
      if (k % 500 === 499) {
        await Promise.all(attackers.map((a) => a.barrier()));
        barriers++;
      }
    }
    await Promise.all(attackers.map((a) => a.barrier()));
    barriers++;

    // The victims got exactly what the other sent, in order, and nothing else.
    for (const data of sent.ab) {
      expect(await B.client.nextOf('signal')).toEqual({
        t: 'signal',
        room: victimRoom.roomId,
        from: A.device,
        data,
      });
    }
    for (const data of sent.ba) expect((await A.client.nextOf('signal')).data).toBe(data);
    const atB = B.client.since(victimMarks[1]!);
    expect(atB.filter((m) => m.t === 'relay')).toHaveLength(sent.relays);
    expect(
      atB.every((m) => (m.t === 'signal' || m.t === 'relay') && m.room === victimRoom.roomId),
    ).toBe(true);
    expect(A.client.since(victimMarks[0]!).every((m) => m.t === 'signal')).toBe(true);

    // Every answer is a well-formed server message; errors carry an expected code.
    const problems: string[] = [];
    const answers = (client: RawClient, mark: number) => {
      const counts = { errors: 0, successes: 0 };
      for (const m of client.since(mark)) {
        if (m.t === 'invalid') problems.push(`not a server message: ${m.error}`);
        else if (m.t === 'hello' || m.t === 'shutdown') problems.push(`a ${m.t} out of place`);
        else if (m.t === 'error') {
          if (!ANSWERS.has(m.code)) problems.push(`unexpected code ${m.code}`);
          counts.errors++;
        } else if (m.room !== attackRoom.roomId) problems.push(`heard of room ${m.room}`);
        if (m.t === 'joined' || (m.t === 'left' && m.reason === 'left')) counts.successes++;
      }
      return counts;
    };
    let errors = 0;
    let successes = 0;
    for (const [i, attacker] of attackers.entries()) {
      expect(attacker.isOpen).toBe(true);
      const counts = answers(attacker, attackerMarks[i]!);
      errors += counts.errors;
      successes += counts.successes;
    }
    expect(joiners.length).toBeGreaterThan(0);
    for (const joiner of joiners) {
      answers(joiner, 1);
      if (!joiner.isOpen) expect((await joiner.closed).code).toBe(CLOSE_CODES.policy);
    }
    expect(problems).toEqual([]);
    // Each frame was answered once: with an error, or by doing what it asked.
    const relayed = server.metrics.signalsRelayed + server.metrics.relayFrames;
    const victimRelayed = sent.ab.length + sent.ba.length + sent.relays;
    expect(errors - barriers * attackers.length + successes + relayed - victimRelayed).toBe(
      sent.plain,
    );

    expect((await httpGet(server, '/healthz')).status).toBe(200);
    for (const joiner of joiners) joiner.terminate();
    await until(() => server.stats().connections === 2 + attackers.length);
  });
});
