/** Browser adapters (Dexie store, native WebRTC, QR) land here; see the issues. */
export * from '../index.js';
