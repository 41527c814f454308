import type { Answer, Question } from 'dns-packet';
import multicastDns from 'multicast-dns';
import type { LanInterface } from './lan-interfaces.js';

/** A packet as it came off one interface's socket: decoded, not yet checked. */
export interface MdnsReceived {
  /** dns-packet's decoding; treat as untrusted. */
  packet: unknown;
  /** The sender's address. */
  address: string;
  /** Bytes on the wire. */
  size: number;
}

export interface MdnsSocketHandlers {
  packet(received: MdnsReceived): void;
  /** A datagram that is not a DNS message. */
  undecodable(): void;
  /** A socket problem (bind, membership, send). */
  error(err: Error): void;
}

/** mDNS on one interface: multicast sends out of it, and packets heard on it. */
export interface MdnsSocket {
  /** Multicasts a query. */
  query(questions: Question[]): Promise<void>;
  /** Multicasts a response (an announcement, an answer or a goodbye). */
  respond(answers: Answer[]): Promise<void>;
  close(): Promise<void>;
}

/** Opens mDNS on one interface (injected, so tests can use an in-memory LAN). */
export type OpenMdnsSocket = (iface: LanInterface, handlers: MdnsSocketHandlers) => MdnsSocket;

export interface MulticastDnsOptions {
  /** The UDP port. @default 5353 */
  port?: number;
}

/**
 * mDNS over multicast-dns, one socket per interface address: bound to `0.0.0.0` (bound to the
 * interface address it would hear nothing), joined to 224.0.0.251 on that interface, and sending
 * out of it. Multicast loopback stays on, so two peers on one host find each other.
 */
export function multicastDnsSocket(options: MulticastDnsOptions = {}): OpenMdnsSocket {
  return (iface, handlers) => {
    const mdns = multicastDns({
      interface: iface.address,
      bind: '0.0.0.0',
      port: options.port ?? 5353,
      reuseAddr: true,
      loopback: true,
    });
    mdns.on('packet', (packet: unknown, rinfo: { address: string; size: number }) => {
      handlers.packet({ packet, address: rinfo.address, size: rinfo.size });
    });
    // multicast-dns reports undecodable datagrams and socket trouble alike as warnings; only
    // the socket's errors name a system call.
    mdns.on('warning', (err: Error & { syscall?: string }) => {
      if (err.syscall) handlers.error(err);
      else handlers.undecodable();
    });
    mdns.on('error', (err: Error) => handlers.error(err));
    let closed = false;
    const done =
      (resolve: () => void, reject: (err: Error) => void) =>
      (err: Error | null): void =>
        err ? reject(err) : resolve();
    return {
      query: (questions) =>
        new Promise((resolve, reject) => {
          if (closed) return resolve();
          mdns.query({ questions }, done(resolve, reject));
        }),
      respond: (answers) =>
        new Promise((resolve, reject) => {
          if (closed) return resolve();
          mdns.respond({ answers }, done(resolve, reject));
        }),
      close: () =>
        new Promise((resolve) => {
          closed = true;
          mdns.destroy(() => resolve());
        }),
    };
  };
}
