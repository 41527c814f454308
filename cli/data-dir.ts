import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Mesh } from '../peer/mesh/mesh.js';
import { SqliteStore } from '../peer/node/sqlite-store.js';
import { createPeer, type Peer } from '../peer/peer.js';
import type { Logger } from '../shared/log.js';
import { CliError } from './cli-error.js';

/**
 * A device's data directory: its SQLite store (`device.db`, which also holds its key pair and
 * mesh secret), its settings (`config.json`) and, while `meshsync start` runs, the control
 * socket (`control.sock`). The directory is created with mode 0700: only its owner reaches any
 * of it.
 */
export interface DataDir {
  root: string;
  db: string;
  config: string;
  socket: string;
}

/** What the command line keeps next to the store. */
export interface DeviceConfig {
  /** This device's name in the member list. */
  name: string;
}

export function dataDir(root: string): DataDir {
  return {
    root,
    db: join(root, 'device.db'),
    config: join(root, 'config.json'),
    socket: join(root, 'control.sock'),
  };
}

export function hasDevice(dir: DataDir): boolean {
  return existsSync(dir.db);
}

export function readConfig(dir: DataDir): DeviceConfig {
  try {
    const value = JSON.parse(readFileSync(dir.config, 'utf8')) as unknown;
    const name = (value as { name?: unknown } | null)?.name;
    return { name: typeof name === 'string' ? name : '' };
  } catch {
    return { name: '' };
  }
}

/** Creates the directory (0700) and writes the settings; the store is made by `openPeer`. */
export function prepareDataDir(dir: DataDir, config: DeviceConfig): void {
  mkdirSync(dir.root, { recursive: true, mode: 0o700 });
  chmodSync(dir.root, 0o700);
  writeFileSync(dir.config, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
}

/** Opens the device's store (creating it, with a new key pair, when `create`). */
export async function openPeer(
  dir: DataDir,
  logger: Logger,
  options: { create?: boolean } = {},
): Promise<Peer> {
  if (!options.create && !hasDevice(dir)) {
    throw new CliError(
      'NOT_INITIALIZED',
      `no device in ${dir.root}: run \`meshsync init\` (or \`meshsync join <token>\`) first`,
    );
  }
  return createPeer({ store: new SqliteStore({ path: dir.db }), logger });
}

/** The device's mesh; NOT_INITIALIZED when it has none. */
export async function openMesh(dir: DataDir, peer: Peer): Promise<Mesh> {
  const mesh = await Mesh.open(peer, { name: readConfig(dir).name });
  if (!mesh) {
    throw new CliError(
      'NOT_INITIALIZED',
      `the device in ${dir.root} belongs to no mesh: run \`meshsync init\` or \`meshsync join\``,
    );
  }
  return mesh;
}

/** A device and its mesh, opened together; `close()` stops both. */
export interface OpenDevice {
  peer: Peer;
  mesh: Mesh;
  close(): Promise<void>;
}

export async function openDevice(dir: DataDir, logger: Logger): Promise<OpenDevice> {
  const peer = await openPeer(dir, logger);
  try {
    const mesh = await openMesh(dir, peer);
    return {
      peer,
      mesh,
      close: async () => {
        mesh.stop();
        await peer.stop();
      },
    };
  } catch (err) {
    await peer.stop();
    throw err;
  }
}
