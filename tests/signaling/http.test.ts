import { describe, expect, it } from 'vitest';
import {
  httpGet,
  metricValue,
  newIdentity,
  newRoom,
  RawClient,
  refusedStatus,
  signalingHarness,
  until,
} from '../support/signaling-raw.js';

const h = signalingHarness();

async function metrics(server: Parameters<typeof httpGet>[0]) {
  const res = await httpGet(server, '/metrics');
  expect(res.status).toBe(200);
  expect(res.type).toMatch(/^text\/plain/);
  expect(res.type).toContain('version=0.0.4');
  const text = res.body;
  return {
    text,
    get: (series: string) => metricValue(text, series),
  };
}

describe('signaling HTTP', { timeout: 10_000 }, () => {
  it('GET /healthz answers 200 JSON with the live counts', async () => {
    const server = await h.start();
    let res = await httpGet(server, '/healthz');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^application\/json/);
    expect(JSON.parse(res.body)).toEqual({ status: 'ok', connections: 0, rooms: 0, members: 0 });
    const room = newRoom();
    await h.member(server, room);
    await h.member(server, room);
    await h.connect(server);
    res = await httpGet(server, '/healthz');
    expect(JSON.parse(res.body)).toEqual({ status: 'ok', connections: 3, rooms: 1, members: 2 });
  });

  it('GET /metrics is Prometheus text that follows what happens', async () => {
    const server = await h.start();
    let m = await metrics(server);
    expect(m.text).toMatch(/^# HELP meshsync_signaling_connections /m);
    expect(m.text).toMatch(/^# TYPE meshsync_signaling_connections gauge$/m);
    expect(m.text).toMatch(/^# TYPE meshsync_signaling_rejections_total counter$/m);
    expect(m.get('meshsync_signaling_connections')).toBe(0);
    expect(m.get('process_resident_memory_bytes')).toBeGreaterThan(1_000_000);
    // Every sample line is `name{labels} number`.
    for (const line of m.text
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-z_]+(\{[a-z]+="[A-Za-z_]+"\})? \d+(\.\d+)?$/);
    }

    const room = newRoom();
    const a = await h.member(server, room);
    const b = await h.member(server, room);
    a.client.signal(room, b.device);
    a.client.signal(room, b.device);
    a.client.relay(room, b.device, new Uint8Array(100));
    await b.client.nextOf('relay');
    const stranger = await h.connect(server);
    stranger.send({ ...stranger.joinMessage(room, newIdentity()), proof: 'A'.repeat(86) });
    await stranger.error('JOIN_REFUSED');
    stranger.send('{');
    await stranger.error('BAD_MESSAGE');
    stranger.send('{"t":"bogus"}');
    await stranger.error('UNKNOWN_MESSAGE');

    m = await metrics(server);
    expect(m.get('meshsync_signaling_connections')).toBe(3);
    expect(m.get('meshsync_signaling_connections_total')).toBe(3);
    expect(m.get('meshsync_signaling_rooms')).toBe(1);
    expect(m.get('meshsync_signaling_members')).toBe(2);
    expect(m.get('meshsync_signaling_messages_relayed_total{kind="signal"}')).toBe(2);
    expect(m.get('meshsync_signaling_messages_relayed_total{kind="relay"}')).toBe(1);
    expect(m.get('meshsync_signaling_relayed_bytes_total')).toBe(100);
    expect(m.get('meshsync_signaling_rejections_total{reason="JOIN_REFUSED"}')).toBe(1);
    expect(m.get('meshsync_signaling_rejections_total{reason="BAD_MESSAGE"}')).toBe(1);
    expect(m.get('meshsync_signaling_rejections_total{reason="UNKNOWN_MESSAGE"}')).toBe(1);
    expect(m.get('meshsync_signaling_rejections_total{reason="LIMIT_REACHED"}')).toBeUndefined();

    // Gauges go down again; counters do not.
    await a.client.close();
    await until(() => server.stats().connections === 2);
    m = await metrics(server);
    expect(m.get('meshsync_signaling_connections')).toBe(2);
    expect(m.get('meshsync_signaling_members')).toBe(1);
    expect(m.get('meshsync_signaling_connections_total')).toBe(3);
    expect(m.get('meshsync_signaling_messages_relayed_total{kind="signal"}')).toBe(2);
  });

  it('counts refused upgrades by reason', async () => {
    const server = await h.start({ maxConnectionsPerIp: 1 });
    await h.connect(server);
    expect(await refusedStatus(server.url)).toBe(429);
    expect(await refusedStatus(server.url)).toBe(429);
    const m = await metrics(server);
    expect(m.get('meshsync_signaling_rejections_total{reason="LIMIT_REACHED"}')).toBe(2);
    expect(m.get('meshsync_signaling_connections_total')).toBe(1);
  });

  it('an upgrade on another path is 404; so is an unknown page', async () => {
    const server = await h.start();
    expect(await refusedStatus(server.url.replace(/\/signal$/, '/nope'))).toBe(404);
    expect(await refusedStatus(server.url + '/deeper')).toBe(404);
    expect(await refusedStatus(server.url.replace(/\/signal$/, '/healthz'))).toBe(404);
    expect((await httpGet(server, '/nope')).status).toBe(404);
    const res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    expect(res.headers.get('x-powered-by')).toBeNull();
    await res.text();
    expect(server.stats().connections).toBe(0);
    // The query string does not matter for the endpoint.
    const c = h.track(await RawClient.connect(server.url + '?v=1'));
    expect(c.hello.t).toBe('hello');
  });
});
