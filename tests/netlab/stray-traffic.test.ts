import { afterAll, describe, expect, it } from 'vitest';
import {
  createLab,
  labAvailable,
  nftCounters,
  nftLoad,
  type Lab,
  type NftCounter,
} from '../support/netns.js';
import { runWeriftPair } from './werift-pair.js';

/**
 * "No stray traffic": a peer with meshsync's default configuration (werift, no ICE servers)
 * sends nothing but what its user asked for. Two werift children connect across a two-host lab
 * while nftables counts every packet host a sends: to its peer (b), and anywhere else. Host a
 * has a default route to b (which does not forward), so a packet bound for any other address
 * really leaves a through the veth and is counted, then dies in b; the lab's nameserver is a
 * documentation address (192.0.2.53) reached the same way, so a DNS lookup is counted too.
 * The control connects a bare werift peer instead: it must be seen falling back to its public
 * STUN host, or the counter proves nothing.
 */

const TABLE = 'meshsync_stray';
/** RFC 5737 TEST-NET-1: never routed anywhere, and here it goes no further than host b. */
const NAMESERVER = '192.0.2.53';
/** How long the pair stays connected after the message, for late DNS/STUN attempts. */
const SETTLE_MS = 2_000;

/** Counts a's output: `to_peer`, and `stray` (all else off loopback) with a few named kinds. */
const ruleset = (peerIp: string): string => `
table inet ${TABLE} {
  counter to_peer { }
  counter stray { }
  counter stray_dns { }
  counter stray_stun { }
  counter stray_mdns { }
  chain output {
    type filter hook output priority 0; policy accept;
    oif "lo" accept
    ip daddr ${peerIp} counter name "to_peer" accept
    udp dport 53 counter name "stray_dns"
    udp dport 19302 counter name "stray_stun"
    udp dport 5353 counter name "stray_mdns"
    counter name "stray"
  }
}
`;

const labs = new Set<Lab>();
afterAll(async () => {
  await Promise.all([...labs].map((lab) => lab.destroy()));
});

/** Connects a pair in a fresh lab and returns a's counters (the lab is always removed). */
async function countedRun(rawOfferer: boolean): Promise<Record<string, number>> {
  const lab = await createLab({ nameserver: NAMESERVER });
  labs.add(lab);
  try {
    await lab.exec(lab.a, ['ip', 'route', 'add', 'default', 'via', lab.b.ip]);
    await nftLoad(lab, lab.a, ruleset(lab.b.ip));
    const { sent, received } = await runWeriftPair(lab, { rawOfferer, settleMs: SETTLE_MS });
    expect(received).toBe(sent); // the lab works: the peers really connected
    const counters = await nftCounters(lab, lab.a, 'inet', TABLE);
    const packets = (name: string): number => (counters.get(name) as NftCounter).packets;
    return Object.fromEntries(
      ['to_peer', 'stray', 'stray_dns', 'stray_stun', 'stray_mdns'].map((n) => [n, packets(n)]),
    );
  } finally {
    await lab.destroy();
    labs.delete(lab);
  }
}

// CI installs nftables (.ci/run) and sets MESHSYNC_REQUIRE_NETLAB, so there a missing lab fails
// instead of skipping.
if (process.env.MESHSYNC_REQUIRE_NETLAB === '1' && !labAvailable()) {
  it('a network lab can be made (MESHSYNC_REQUIRE_NETLAB)', () => {
    throw new Error(
      'no network lab: needs Linux, root, ip and nft (apt-get install nftables), ' +
        'inside an isolated namespace (npm test, or tools/isolated with MESHSYNC_ISOLATED=1)',
    );
  });
}

describe.skipIf(!labAvailable())('no stray traffic from a default-configured werift peer', () => {
  it('sends packets only to its peer while connecting', async () => {
    const counted = await countedRun(false);
    expect(counted, JSON.stringify(counted)).toMatchObject({ stray: 0 });
    expect(counted.to_peer).toBeGreaterThan(0);
  });

  it("control: a bare werift peer is seen reaching for werift's default STUN host", async () => {
    const counted = await countedRun(true);
    expect(counted.stray, JSON.stringify(counted)).toBeGreaterThan(0);
    expect(counted.stray_dns, JSON.stringify(counted)).toBeGreaterThan(0);
  });
});
