import { MeshsyncError } from '../../shared/errors.js';
import { fromBase64url, toBase64url } from '../../shared/crypto/bytes.js';
import { deviceIdFromKey, type Identity } from '../../shared/crypto/identity.js';
import type { DeviceId } from '../../shared/ids.js';
import type { JsonObject } from '../../shared/json.js';
import { checkEndpoint, type Endpoint } from '../../shared/token/endpoint.js';
import { decodeInviteToken, encodeInviteToken, inviteId } from '../../shared/token/invite-token.js';
import { markInviteUsed, registerInvite, takeInvite } from './invites.js';
import { decodeOfferToken, encodeOfferToken, tokenKind } from '../../shared/token/offer-token.js';
import type { CompactSdp } from '../../shared/sdp/types.js';
import { defaultRandom } from '../replica.js';
import { meshSync, peerIdentity } from './identity.js';
import type { Peer } from '../peer.js';
import { secureHandshake, type HandshakeRole } from '../secure/handshake.js';
import type { RemoteIdentity } from '../secure/secure-transport.js';
import type { SyncSession } from '../sync/session.js';
import type { SyncOptions } from '../sync/session-types.js';
import type { Transport } from '../transport/transport-port.js';
import { MEMBERS, memberValue, readMember, type MemberInfo } from './member-record.js';

const META_MESH = 'mesh';
const META_REVOKED = 'mesh.revoked';

export interface MeshOptions {
  /** This device's name in the member list. @default '' */
  name?: string;
  /** @default 15_000 */
  handshakeTimeoutMs?: number;
  /** Lifetime of invites. @default 900_000 (15 minutes) */
  inviteTtlMs?: number;
}

/** Upper-case base32 characters a QR code of version 12 holds at error correction M. */
export const QR_V12_M_CHARS = 419;

export interface InviteOptions {
  /** @default the mesh's inviteTtlMs */
  ttlMs?: number;
  /** Where this device can be reached directly, for the joining device. */
  endpoints?: readonly Endpoint[];
  /**
   * Offer tokens only: the longest token wanted; the least preferred candidates are left out
   * until it fits (one always stays). @default 419, a QR code of version 12 at M
   */
  maxChars?: number;
}

/**
 * A group of paired devices sharing a secret. The member list is synced data (`_mesh.members`),
 * so pairing a device with any member makes it known to all, and revoking it anywhere refuses
 * it everywhere. Every connection runs the secure handshake against that list first.
 */
export class Mesh {
  private readonly sessions = new Set<SyncSession>();
  private readonly off: Array<() => void> = [];

  private constructor(
    readonly peer: Peer,
    readonly identity: Identity,
    private readonly secret: Uint8Array,
    private readonly revoked: Set<string>,
    private readonly options: MeshOptions,
    /** The member that let this device join: trusted until the member list has synced. */
    private readonly introducer: { device: string; key: string } | null = null,
  ) {
    this.off.push(
      peer
        .collection(MEMBERS)
        .subscribe((change) => void this.onMemberChange(change.id, change.value)),
    );
  }

  /** Starts a new mesh with this device as its only member. */
  static async create(peer: Peer, options: MeshOptions = {}): Promise<Mesh> {
    const identity = await peerIdentity(peer);
    if ((await peer.replica.store.getMeta(META_MESH)) !== undefined) {
      throw new MeshsyncError('MESH_STATE', 'this device already belongs to a mesh');
    }
    const secret = defaultRandom(32);
    await peer.replica.store.setMeta(META_MESH, JSON.stringify({ secret: toBase64url(secret) }));
    const mesh = new Mesh(peer, identity, secret, new Set(), options);
    await mesh.addMember(
      { publicKey: identity.publicKey, name: options.name ?? '' },
      identity.device,
    );
    return mesh;
  }

  /** The mesh this device belongs to, or null. */
  static async open(peer: Peer, options: MeshOptions = {}): Promise<Mesh | null> {
    const text = await peer.replica.store.getMeta(META_MESH);
    if (text === undefined) return null;
    const identity = await peerIdentity(peer);
    const stored = JSON.parse(text) as {
      secret: string;
      introducer?: { device: string; key: string };
    };
    const revoked = JSON.parse(
      (await peer.replica.store.getMeta(META_REVOKED)) ?? '[]',
    ) as string[];
    return new Mesh(
      peer,
      identity,
      fromBase64url(stored.secret, 'STORE_CORRUPT'),
      new Set(revoked),
      options,
      stored.introducer ?? null,
    );
  }

  /**
   * Joins a mesh with an invite (or offer) token over `transport` to any member, then syncs with it (the
   * member list arrives first thing). Rejects with the member's refusal code if it says no.
   */
  static async join(
    peer: Peer,
    token: string,
    transport: Transport,
    options: MeshOptions & { sync?: SyncOptions; signal?: AbortSignal } = {},
  ): Promise<{ mesh: Mesh; session: SyncSession }> {
    const identity = await peerIdentity(peer);
    if ((await peer.replica.store.getMeta(META_MESH)) !== undefined) {
      throw new MeshsyncError('MESH_STATE', 'this device already belongs to a mesh');
    }
    const invite =
      tokenKind(token) === 'offer' ? decodeOfferToken(token) : decodeInviteToken(token);
    const channel = await secureHandshake(transport, {
      identity,
      role: { kind: 'join', inviteId: inviteId(invite.secret), inviteSecret: invite.secret },
      name: options.name ?? '',
      timeoutMs: options.handshakeTimeoutMs ?? 15_000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const secret = channel.meshSecret!;
    const introducer = {
      device: channel.remote.device,
      key: toBase64url(channel.remote.publicKey),
    };
    await peer.replica.store.setMeta(
      META_MESH,
      JSON.stringify({ secret: toBase64url(secret), introducer }),
    );
    const mesh = new Mesh(peer, identity, secret, new Set(), options, introducer);
    return {
      mesh,
      session: mesh.track(peer.connect(channel.transport, meshSync(options.sync ?? {}))),
    };
  }

  get device(): DeviceId {
    return this.identity.device;
  }

  /** The mesh secret: give it to no one; helpers derive room ids and keys from it. */
  get meshSecret(): Uint8Array {
    return this.secret;
  }

  /** Every device ever added, revoked ones included (with `revokedAt`). */
  async members(): Promise<MemberInfo[]> {
    const out: MemberInfo[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.peer.collection(MEMBERS).list(after === undefined ? {} : { after });
      for (const { id, value } of page) {
        const member = readMember(id, value);
        if (member)
          out.push(
            this.revoked.has(id) && !member.revokedAt
              ? { ...member, revokedAt: 0, revokedBy: member.addedBy }
              : member,
          );
      }
      if (page.length < 1000) return out;
      after = page[page.length - 1]!.id;
    }
  }

  /**
   * True when `device` may connect: a member that is not revoked (or the member that let this
   * device join, until the member list has synced). The handshake still proves who it is.
   */
  async admits(device: string): Promise<boolean> {
    if (device === this.device || this.revoked.has(device)) return false;
    const member = readMember(device, await this.peer.collection(MEMBERS).get(device));
    if (member?.revokedAt !== undefined) return false;
    return Boolean(member) || this.introducer?.device === device;
  }

  /** Creates a single-use invite token for a new device. */
  async invite(options: InviteOptions = {}): Promise<string> {
    const endpoints = (options.endpoints ?? []).map(checkEndpoint);
    const { secret, expiresAt } = await registerInvite(
      this.peer,
      this.device,
      options.ttlMs ?? this.options.inviteTtlMs,
    );
    return encodeInviteToken({ secret, expiresAt, endpoints }, this.identity);
  }

  /**
   * Creates an offer token around this device's WebRTC offer (compacted). Its one-time secret
   * is registered like an invite, so a device that is not yet a member can join with it.
   * Keep `secret` to check the answer token (`decodeAnswerToken`). `candidates` says how many
   * of the SDP's candidates fitted.
   */
  async offerToken(
    sdp: CompactSdp,
    options: InviteOptions = {},
  ): Promise<{ token: string; secret: Uint8Array; expiresAt: number; candidates: number }> {
    const endpoints = (options.endpoints ?? []).map(checkEndpoint);
    const { secret, expiresAt } = await registerInvite(
      this.peer,
      this.device,
      options.ttlMs ?? this.options.inviteTtlMs,
    );
    // Keep the token within a QR code of version 12 at M: drop the least preferred candidates.
    const maxChars = options.maxChars ?? QR_V12_M_CHARS;
    let candidates = sdp.candidates;
    for (;;) {
      const token = encodeOfferToken(
        { secret, expiresAt, sdp: { ...sdp, candidates }, endpoints },
        this.identity,
      );
      if (token.length <= maxChars || candidates.length <= 1) {
        return { token, secret, expiresAt, candidates: candidates.length };
      }
      candidates = candidates.slice(0, -1);
    }
  }

  /** Revokes a device: it is refused by every member that has synced this, and its sessions close. */
  async revoke(device: string): Promise<void> {
    if (device === this.device)
      throw new MeshsyncError('INVALID_VALUE', 'a device cannot revoke itself');
    const members = this.peer.collection(MEMBERS);
    if ((await members.get(device)) === null)
      throw new MeshsyncError('NOT_FOUND', `no member ${device}`);
    await this.remember(device);
    await members.patch(device, { revokedBy: this.device, revokedAt: Date.now() });
    this.closeSessionsWith(device);
  }

  /**
   * Authenticates the other side of `transport` as a member (or takes a device joining with an
   * invite), then runs a sync session over the secured transport.
   */
  async connect(
    transport: Transport,
    options: SyncOptions & { signal?: AbortSignal } = {},
  ): Promise<SyncSession> {
    const { signal, ...sync } = options;
    const channel = await secureHandshake(transport, {
      identity: this.identity,
      role: this.role(),
      name: this.options.name ?? '',
      timeoutMs: this.options.handshakeTimeoutMs ?? 15_000,
      ...(signal ? { signal } : {}),
    });
    return this.track(this.peer.connect(channel.transport, meshSync(sync)));
  }

  /** Stops watching the member list and closes this mesh's sessions (the peer stays open). */
  stop(): void {
    for (const off of this.off.splice(0)) off();
    for (const session of this.sessions) session.close('mesh stopped');
  }

  private role(): HandshakeRole {
    return {
      kind: 'member',
      meshSecret: this.secret,
      admit: (remote) => this.admit(remote),
      invite: (id) => takeInvite(this.peer, id),
      joined: (remote, id) => this.joined(remote, id),
    };
  }

  private async admit(remote: RemoteIdentity): Promise<void> {
    const member = readMember(
      remote.device,
      await this.peer.collection(MEMBERS).get(remote.device),
    );
    if (this.revoked.has(remote.device) || member?.revokedAt !== undefined) {
      throw new MeshsyncError('AUTH_REVOKED', `device ${remote.device} was revoked`);
    }
    const introduced =
      this.introducer?.device === remote.device &&
      this.introducer.key === toBase64url(remote.publicKey);
    if (!member && !introduced)
      throw new MeshsyncError(
        'AUTH_UNKNOWN_DEVICE',
        `device ${remote.device} is not a member of this mesh`,
      );
  }

  private async joined(remote: RemoteIdentity, id: Uint8Array): Promise<void> {
    if (this.revoked.has(remote.device)) {
      throw new MeshsyncError('AUTH_REVOKED', `device ${remote.device} was revoked`);
    }
    // Checked again: another join may have taken the invite while this handshake ran.
    await takeInvite(this.peer, id);
    await markInviteUsed(this.peer, id, remote.device);
    const existing = readMember(
      remote.device,
      await this.peer.collection(MEMBERS).get(remote.device),
    );
    if (existing?.revokedAt !== undefined)
      throw new MeshsyncError('AUTH_REVOKED', `device ${remote.device} was revoked`);
    if (!existing)
      await this.addMember(
        { publicKey: remote.publicKey, name: remote.name.slice(0, 64) },
        this.device,
      );
  }

  private async addMember(
    member: { publicKey: Uint8Array; name: string },
    addedBy: DeviceId,
  ): Promise<void> {
    const info: MemberInfo = {
      device: deviceIdFromKey(member.publicKey),
      publicKey: member.publicKey,
      name: member.name,
      addedBy,
      addedAt: Date.now(),
    };
    await this.peer.collection(MEMBERS).put(info.device, memberValue(info));
  }

  private track(session: SyncSession): SyncSession {
    this.sessions.add(session);
    session.events.on('closed', () => this.sessions.delete(session));
    return session;
  }

  private closeSessionsWith(device: string): void {
    for (const session of this.sessions) {
      if (session.remoteDevice === device) session.close(`device ${device} was revoked`);
    }
  }

  private async remember(device: string): Promise<void> {
    if (this.revoked.has(device)) return;
    this.revoked.add(device);
    await this.peer.replica.store.setMeta(META_REVOKED, JSON.stringify([...this.revoked]));
  }

  /**
   * Revocation is sticky: once seen, a device stays revoked here, and if a later write (say,
   * from the revoked device through a member that had not heard yet) clears it, we write it
   * again, so the revocation wins the merge everywhere.
   */
  private async onMemberChange(device: string, value: JsonObject | null): Promise<void> {
    try {
      const member = readMember(device, value);
      if (member?.revokedAt !== undefined) {
        await this.remember(device);
        this.closeSessionsWith(device);
      } else if (this.revoked.has(device)) {
        // A deleted record needs nothing: admit() refuses a device with no record anyway.
        if (value !== null) {
          await this.peer
            .collection(MEMBERS)
            .patch(device, { revokedBy: this.device, revokedAt: Date.now() });
        }
        this.closeSessionsWith(device);
      }
    } catch (err) {
      this.peer.replica.logger.warn('mesh: member change not handled', {
        device,
        error: String(err),
      });
    }
  }
}
