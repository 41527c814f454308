import type { MeshManagerStatus } from '../peer/manager/manager-types.js';
import type { SyncProgress } from '../peer/sync/session-types.js';

/** What `meshsync status` shows of a running peer (the control socket's `status` answer). */
export interface RunningStatus {
  device: string;
  name: string;
  data: string;
  pid: number;
  startedAt: number;
  listener: { host: string; port: number; endpoints: Array<{ host: string; port: number }> } | null;
  signaling: { url: string; state: string } | null;
  rtc: string;
  mdns: boolean;
  manager: MeshManagerStatus;
  /** Syncs moving many rows right now, per device. */
  progress: Array<{ device: string } & SyncProgress>;
  /** The last connections the listener turned away, and WebRTC attempts that failed. */
  refused: Array<{ at: number; address: string; code: string; message: string }>;
}

function ago(ms: number | null, now: number): string {
  if (ms === null) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 60
    ? `${s}s ago`
    : s < 3600
      ? `${Math.floor(s / 60)}m ago`
      : `${Math.floor(s / 3600)}h ago`;
}

/** A bar of `width` cells for `done` of `total`. */
export function progressBar(done: number, total: number, width = 24): string {
  const ratio = total <= 0 ? 1 : Math.min(1, done / total);
  const full = Math.round(ratio * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${Math.floor(ratio * 100)}%`;
}

/** The status as lines of text for a terminal. */
export function formatStatus(s: RunningStatus, now = Date.now()): string[] {
  const lines = [`device ${s.device} (${s.name || '-'}): ${s.manager.summary}`];
  if (s.listener) {
    const where = s.listener.endpoints.map((e) => `${e.host}:${e.port}`).join(', ');
    lines.push(`  listening on ${s.listener.host}:${s.listener.port}${where ? ` (${where})` : ''}`);
  }
  lines.push(
    `  signaling: ${s.signaling ? `${s.signaling.url} (${s.signaling.state})` : 'none'}; webrtc: ${s.rtc}; mdns: ${s.mdns ? 'on' : 'off'}`,
  );
  for (const p of s.manager.peers) {
    lines.push(
      `  ${p.device}  ${p.state.padEnd(10)} ${(p.transport ?? '-').padEnd(9)} last sync ${ago(p.lastSyncAt, now)}` +
        (p.pendingChanges > 0 ? `, ${p.pendingChanges} to send` : ''),
    );
    if (p.state !== 'connected' && p.why) lines.push(`      ${p.why}`);
  }
  for (const p of s.progress) {
    const total = p.rows + Math.max(0, p.head - p.cursor);
    lines.push(`  ${p.direction} ${p.device} ${progressBar(p.rows, total)} ${p.rows} rows`);
  }
  return lines;
}
