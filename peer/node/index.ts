/** Node adapters (SQLite store, WebRTC, direct endpoint, mDNS) land here; see the issues. */
export * from '../index.js';
