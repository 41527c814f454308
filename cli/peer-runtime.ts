import { MeshManager } from '../peer/manager/mesh-manager.js';
import { DirectListener } from '../peer/node/direct-listener.js';
import { nodeDirectDialer } from '../peer/node/direct-dialer.js';
import { nativeEd25519Verify } from '../peer/node/ed25519.js';
import { LanDiscovery } from '../peer/node/mdns/lan-discovery.js';
import { nodeWebSocket } from '../peer/node/web-socket.js';
import { RtcConnector } from '../peer/rtc/rtc-connector.js';
import type { RtcIceServer, RtcPort } from '../peer/rtc/rtc-port.js';
import { SignalingClient } from '../peer/signaling/signaling-client.js';
import type { SyncProgress } from '../peer/sync/session-types.js';
import { Emitter } from '../shared/emitter.js';
import type { JsonValue } from '../shared/json.js';
import type { Logger } from '../shared/log.js';
import { roomKeys } from '../shared/secure/room.js';
import type { Endpoint } from '../shared/token/endpoint.js';
import { CliError } from './cli-error.js';
import { probeControl } from './control-client.js';
import type { ControlRequest } from './control-protocol.js';
import { ControlServer } from './control-server.js';
import { openDevice, readConfig, type DataDir, type OpenDevice } from './data-dir.js';
import { performOp } from './data-ops.js';
import { rtcPort, type RtcChoice } from './rtc-choice.js';
import type { RunningStatus } from './running-status.js';

export interface RuntimeOptions {
  dir: DataDir;
  logger: Logger;
  /** Signaling server URL, or none. */
  signal?: string;
  /** The direct listener's address and port (0: any free port). */
  host: string;
  port: number;
  rtc: RtcChoice;
  iceLoopback: boolean;
  /** STUN and TURN servers for WebRTC (none by default). */
  iceServers: RtcIceServer[];
  mdns: boolean;
}

const MAX_REFUSED = 10;

/**
 * The peer `meshsync start` runs: the device's store and mesh, a direct listener, a signaling
 * client and WebRTC (when a server is given), LAN discovery (when asked), the mesh manager that
 * keeps them connected, and the control socket the other commands talk to.
 */
export class PeerRuntime {
  /** `changed` fires when the status is worth redrawing. */
  readonly events = new Emitter<{ changed: null }>();
  private readonly progress = new Map<string, SyncProgress>();
  private readonly refused: RunningStatus['refused'] = [];
  private readonly startedAt = Date.now();
  private lan: LanDiscovery | null = null;
  private control: ControlServer | null = null;
  private stopping: Promise<void> | null = null;

  private constructor(
    private readonly options: RuntimeOptions,
    private readonly device: OpenDevice,
    private readonly listener: DirectListener,
    private readonly bound: { host: string; port: number },
    private readonly manager: MeshManager,
    private readonly signaling: SignalingClient | null,
    private readonly rtc: RtcConnector | null,
  ) {}

  static async start(options: RuntimeOptions): Promise<PeerRuntime> {
    const { dir, logger } = options;
    if (await probeControl(dir.socket)) {
      throw new CliError('ALREADY_RUNNING', `a peer is already running on ${dir.root}`);
    }
    const port = await rtcPort(options.rtc, options.iceLoopback);
    const device = await openDevice(dir, logger);
    const listener = new DirectListener({
      mesh: device.mesh,
      host: options.host,
      port: options.port,
      logger,
    });
    let runtime: PeerRuntime | null = null;
    try {
      const bound = await listener.start();
      runtime = PeerRuntime.assemble(options, device, listener, bound, port);
      await runtime.begin();
      return runtime;
    } catch (err) {
      if (runtime) await runtime.stop();
      else {
        await listener.stop();
        await device.close();
      }
      throw err;
    }
  }

  private static assemble(
    options: RuntimeOptions,
    device: OpenDevice,
    listener: DirectListener,
    bound: { host: string; port: number },
    port: RtcPort | null,
  ): PeerRuntime {
    const { mesh } = device;
    const { logger } = options;
    let signaling: SignalingClient | null = null;
    let rtc: RtcConnector | null = null;
    if (options.signal) {
      signaling = new SignalingClient({
        url: options.signal,
        identity: mesh.identity,
        webSocket: nodeWebSocket,
        logger,
      });
      signaling
        .join(roomKeys(mesh.meshSecret))
        .catch((err: unknown) => logger.warn('signaling: join failed', { error: String(err) }));
      if (port) {
        rtc = new RtcConnector({
          mesh,
          signaling,
          rtc: port,
          iceServers: options.iceServers,
          signatureCheck: nativeEd25519Verify,
          logger,
        });
      }
    }
    const manager = new MeshManager({
      mesh,
      ...(rtc && signaling ? { rtc, signaling } : {}),
      dialer: nodeDirectDialer,
      listener,
      endpoints: () => listener.endpoints(),
      logger,
    });
    return new PeerRuntime(options, device, listener, bound, manager, signaling, rtc);
  }

  private async begin(): Promise<void> {
    const { mesh } = this.device;
    const { logger } = this.options;
    this.listener.on('refused', (info) => this.refusal(info));
    this.rtc?.on('failed', ({ device, error }) =>
      this.refusal({ address: `webrtc ${device}`, code: error.code, message: error.message }),
    );
    this.manager.on('status', () => this.changed());
    this.manager.on('peer', (p) =>
      logger.info('peer', { device: p.device, state: p.state, transport: p.transport, why: p.why }),
    );
    this.manager.on('session', ({ device, session }) => {
      session.events.on('progress', (p) => {
        this.progress.set(device, p);
        this.changed();
      });
      session.events.on('synced', () => {
        if (this.progress.delete(device)) this.changed();
      });
      session.events.on('closed', () => {
        if (this.progress.delete(device)) this.changed();
      });
    });
    await this.manager.start();
    if (this.options.mdns) {
      this.lan = new LanDiscovery({ mesh, listener: this.listener, manager: this.manager, logger });
      await this.lan.start();
    }
    this.control = new ControlServer(
      this.options.dir.socket,
      (request) => this.perform(request),
      logger,
    );
    await this.control.start();
  }

  /** Performs a control request (a data or device command) on this running peer. */
  perform(request: ControlRequest): Promise<JsonValue> {
    return performOp(
      {
        mesh: this.device.mesh,
        endpoints: () => this.inviteEndpoints(),
        status: () => this.status() as unknown as JsonValue,
      },
      request,
    );
  }

  /**
   * Where a new device can reach us: the listener's endpoints, or, when it has none (bound to a
   * wildcard on a machine whose only interface is loopback), loopback itself.
   */
  private inviteEndpoints(): Endpoint[] {
    const endpoints = this.listener.endpoints();
    return endpoints.length > 0 ? endpoints : [{ host: '127.0.0.1', port: this.bound.port }];
  }

  /** A connection turned away or failed: kept (the last few) for `status`, and logged. */
  private refusal(info: { address: string; code: string; message: string }): void {
    this.refused.push({ at: Date.now(), ...info });
    if (this.refused.length > MAX_REFUSED) this.refused.shift();
    this.options.logger.warn('connection refused or failed', { ...info });
    this.changed();
  }

  private changed(): void {
    this.events.emit('changed', null);
  }

  get address(): { host: string; port: number } {
    return this.bound;
  }

  status(): RunningStatus {
    const { mesh } = this.device;
    return {
      device: mesh.device,
      name: readConfig(this.options.dir).name,
      data: this.options.dir.root,
      pid: process.pid,
      startedAt: this.startedAt,
      listener: { ...this.bound, endpoints: this.listener.endpoints() },
      signaling: this.signaling ? { url: this.options.signal!, state: this.signaling.state } : null,
      rtc: this.rtc ? this.options.rtc : 'none',
      mdns: this.lan !== null,
      manager: this.manager.status(),
      progress: [...this.progress].map(([device, p]) => ({ device, ...p })),
      refused: [...this.refused],
    };
  }

  /** Stops everything, control socket first (idempotent). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.control?.stop();
      await this.lan?.stop();
      this.manager.stop();
      this.rtc?.stop();
      this.signaling?.stop();
      await this.listener.stop();
      await this.device.close();
    })();
    return this.stopping;
  }
}
