/**
 * The server's counters, and their Prometheus text exposition (`GET /metrics`). Gauges are read
 * from the live state when rendered; counters only grow.
 */
export interface MetricsGauges {
  connections: number;
  rooms: number;
  members: number;
}

export class SignalingMetrics {
  connectionsTotal = 0;
  signalsRelayed = 0;
  relayFrames = 0;
  relayBytes = 0;
  private readonly rejections = new Map<string, number>();

  /** Counts a refused message or connection by its reason (an error code or a close cause). */
  reject(reason: string): void {
    this.rejections.set(reason, (this.rejections.get(reason) ?? 0) + 1);
  }

  rejected(reason: string): number {
    return this.rejections.get(reason) ?? 0;
  }

  render(gauges: MetricsGauges, residentBytes: number): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
    };
    metric('meshsync_signaling_connections', 'gauge', 'Open WebSocket connections.', [
      ['', gauges.connections],
    ]);
    metric('meshsync_signaling_rooms', 'gauge', 'Rooms with at least one member.', [
      ['', gauges.rooms],
    ]);
    metric('meshsync_signaling_members', 'gauge', 'Room memberships, over all rooms.', [
      ['', gauges.members],
    ]);
    metric('meshsync_signaling_connections_total', 'counter', 'Connections accepted.', [
      ['', this.connectionsTotal],
    ]);
    metric('meshsync_signaling_messages_relayed_total', 'counter', 'Messages relayed.', [
      ['{kind="signal"}', this.signalsRelayed],
      ['{kind="relay"}', this.relayFrames],
    ]);
    metric('meshsync_signaling_relayed_bytes_total', 'counter', 'Relay payload bytes.', [
      ['', this.relayBytes],
    ]);
    const reasons = [...this.rejections].sort(([a], [b]) => (a < b ? -1 : 1));
    metric(
      'meshsync_signaling_rejections_total',
      'counter',
      'Messages and connections refused, by reason.',
      reasons.map(([reason, n]) => [`{reason="${reason}"}`, n]),
    );
    metric('process_resident_memory_bytes', 'gauge', 'Resident memory of the server.', [
      ['', residentBytes],
    ]);
    return lines.join('\n') + '\n';
  }
}
