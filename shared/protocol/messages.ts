import type { CollectionName, DeviceId } from '../ids.js';
import type { RecordState } from '../record.js';

/** Message type bytes (frame header byte 3). Never renumber: they are on the wire. */
export const MESSAGE_TYPES = {
  hello: 1,
  welcome: 2,
  pull: 3,
  changes: 4,
  ack: 5,
  changed: 6,
  error: 7,
  bye: 8,
} as const;

export type MessageType = keyof typeof MESSAGE_TYPES;

/** First message each side sends: who it is and what it wants. */
export interface HelloMessage {
  type: 'hello';
  /** Lowest and highest protocol versions the sender speaks. */
  min: number;
  max: number;
  device: DeviceId;
  /** Random id of the sender's store; a new epoch means cursors into it start over. */
  epoch: string;
  /** Optional features the sender supports. */
  caps: string[];
  /** Collections the sender wants to receive; null means all. */
  want: CollectionName[] | null;
  /** Largest frame the sender accepts. */
  maxFrame: number;
}

/** Second message: the sequence number up to which the sender has applied the receiver's changes. */
export interface WelcomeMessage {
  type: 'welcome';
  cursor: number;
}

/** "Send me a page of your changes after `after`." */
export interface PullMessage {
  type: 'pull';
  req: number;
  after: number;
  rows: number;
  bytes: number;
}

/**
 * A page of changes in the sender's sequence order: the answer to a pull (`push: false`) or sent
 * unasked (`push: true`, to be acknowledged). It covers the sender's sequence numbers in
 * (from, to]; rows the receiver does not want or already has are left out.
 */
export interface ChangesMessage {
  type: 'changes';
  req: number;
  push: boolean;
  from: number;
  to: number;
  /** The sender's newest sequence number when it built the page. */
  head: number;
  more: boolean;
  rows: RecordState[];
}

/** Acknowledges a pushed page: the receiver's cursor for the sender after applying it. */
export interface AckMessage {
  type: 'ack';
  req: number;
  cursor: number;
}

/** A short notice that the sender has new changes up to `head`: pull when you can. */
export interface ChangedMessage {
  type: 'changed';
  head: number;
}

/** A refusal of a request (`req`), or of the session (`req: 0`). */
export interface ErrorMessage {
  type: 'error';
  req: number;
  code: string;
  message: string;
}

/** Graceful end of a session. */
export interface ByeMessage {
  type: 'bye';
  reason: string;
}

export type Message =
  | HelloMessage
  | WelcomeMessage
  | PullMessage
  | ChangesMessage
  | AckMessage
  | ChangedMessage
  | ErrorMessage
  | ByeMessage;
