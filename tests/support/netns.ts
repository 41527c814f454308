import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';

/**
 * A two-host lab on one machine: two network namespaces joined by a veth pair (TESTING.md, "Two
 * hosts on one machine"); with `hosts: n` (n > 2), n namespaces each joined by a veth to a bridge
 * in one more namespace, one LAN. Names are unique per lab (`ms-<pid>-<random>`), so runs never
 * collide, and `destroy()` kills what was started in the lab and removes every namespace. IPv6
 * is off in the lab: the kernel's own neighbour discovery and MLD would otherwise leave the veth
 * on their own, and every lab test so far is IPv4. Linux only, as root (see `labAvailable`).
 */

export interface LabHost {
  /** The namespace's name (for `ip netns exec`, `ip -n`). */
  readonly name: string;
  /** Its address on the veth LAN. */
  readonly ip: string;
  /** Its end of the veth pair. */
  readonly dev: string;
}

export interface Lab {
  readonly a: LabHost;
  readonly b: LabHost;
  /** Every host, `a` and `b` first (`.1`, `.2`, `.3`...). */
  readonly hosts: readonly LabHost[];
  /** Runs `cmd` inside `host`'s namespace; resolves with its stdout, rejects on failure. */
  exec(host: LabHost, cmd: readonly string[], input?: string): Promise<string>;
  /** Starts `command` inside `host`'s namespace. `destroy()` kills it if still running. */
  spawnIn(
    host: LabHost,
    command: string,
    args: readonly string[],
    options?: SpawnOptions,
  ): ChildProcess;
  /** Kills the lab's processes and removes both namespaces (idempotent, never throws). */
  destroy(): Promise<void>;
}

export interface LabOptions {
  /** The first three octets of the LAN's /24: hosts are `.1` (a) and `.2` (b). */
  subnet?: string;
  /**
   * A nameserver for both hosts (written to `/etc/netns/<name>/resolv.conf`, which
   * `ip netns exec` mounts over `/etc/resolv.conf`). Without it the hosts use the machine's.
   */
  nameserver?: string;
  /** How many hosts on the LAN (more than 2: joined by a bridge). @default 2 */
  hosts?: number;
}

const NETNS_ETC = '/etc/netns';

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/**
 * True when a lab can be made here and may be used: Linux, root, `ip` and `nft` installed, and
 * inside an isolated namespace (`MESHSYNC_ISOLATED=1`, set by `npm test` and `tools/isolated`).
 */
export function labAvailable(): boolean {
  if (process.platform !== 'linux' || process.env.MESHSYNC_ISOLATED !== '1') return false;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  return onPath('ip') && onPath('nft');
}

/** Runs a command to completion; rejects with its stderr when it fails. */
export function run(command: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, {
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.trim()}`));
    });
    proc.stdin?.on('error', () => undefined); // a failed command's exit code tells
    proc.stdin?.end(input);
  });
}

/** Creates the lab. On any failure what was made so far is removed before rethrowing. */
export async function createLab(options: LabOptions = {}): Promise<Lab> {
  const id = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const subnet = options.subnet ?? '10.77.0';
  const count = options.hosts ?? 2;
  if (!Number.isInteger(count) || count < 2 || count > 20) throw new Error('hosts: 2 to 20');
  const hosts: LabHost[] = Array.from({ length: count }, (_, i) => {
    const letter = String.fromCharCode(97 + i);
    return { name: `ms-${id}-${letter}`, ip: `${subnet}.${i + 1}`, dev: `ms${id}${letter}` };
  });
  const [a, b] = hosts as [LabHost, LabHost];
  const bridge: LabHost | null = count > 2 ? { name: `ms-${id}-br`, ip: '', dev: 'br0' } : null;
  const children = new Set<ChildProcess>();
  const made: LabHost[] = [];

  const lab: Lab = {
    a,
    b,
    hosts,
    exec: (host, cmd, input) => run('ip', ['netns', 'exec', host.name, ...cmd], input),
    spawnIn(host, command, args, spawnOptions = {}) {
      const child = spawn('ip', ['netns', 'exec', host.name, command, ...args], spawnOptions);
      children.add(child);
      child.on('exit', () => children.delete(child));
      return child;
    },
    async destroy() {
      await Promise.all([...children].map(killAndWait));
      for (const host of made.splice(0)) {
        await run('ip', ['netns', 'del', host.name]).catch(() => undefined);
        rmSync(`${NETNS_ETC}/${host.name}`, { recursive: true, force: true });
      }
      try {
        rmdirSync(NETNS_ETC); // only when empty: other labs may be using it
      } catch {
        // not empty, or not there: both fine
      }
    },
  };

  try {
    for (const host of hosts) {
      made.push(host);
      if (options.nameserver !== undefined) {
        mkdirSync(`${NETNS_ETC}/${host.name}`, { recursive: true });
        writeFileSync(
          `${NETNS_ETC}/${host.name}/resolv.conf`,
          `nameserver ${options.nameserver}\noptions timeout:1 attempts:1\n`,
        );
      }
      await run('ip', ['netns', 'add', host.name]);
      await lab.exec(host, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
      await lab.exec(host, ['sysctl', '-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1']);
      await run('ip', ['-n', host.name, 'link', 'set', 'lo', 'up']);
    }
    if (bridge) await makeBridge(lab, bridge, hosts, made);
    else await run('ip', ['link', 'add', a.dev, 'type', 'veth', 'peer', 'name', b.dev]);
    for (const host of hosts) {
      await run('ip', ['link', 'set', host.dev, 'netns', host.name]);
      await run('ip', ['-n', host.name, 'addr', 'add', `${host.ip}/24`, 'dev', host.dev]);
      await run('ip', ['-n', host.name, 'link', 'set', host.dev, 'up']);
    }
  } catch (error) {
    for (const host of hosts) await run('ip', ['link', 'del', host.dev]).catch(() => undefined);
    await lab.destroy();
    throw error;
  }
  return lab;
}

/**
 * The bridge namespace: a bridge `br0` and, per host, a veth whose other end (`<dev>p`) is a
 * bridge port. The host ends stay in the root namespace until the caller moves them.
 */
async function makeBridge(
  lab: Lab,
  bridge: LabHost,
  hosts: readonly LabHost[],
  made: LabHost[],
): Promise<void> {
  made.push(bridge);
  await run('ip', ['netns', 'add', bridge.name]);
  await lab.exec(bridge, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
  await lab.exec(bridge, ['sysctl', '-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1']);
  await run('ip', ['-n', bridge.name, 'link', 'add', 'br0', 'type', 'bridge']);
  await run('ip', [
    '-n',
    bridge.name,
    'link',
    'set',
    'br0',
    'type',
    'bridge',
    'mcast_snooping',
    '0',
  ]);
  await run('ip', ['-n', bridge.name, 'link', 'set', 'br0', 'up']);
  for (const host of hosts) {
    const port = `${host.dev}p`;
    await run('ip', ['link', 'add', host.dev, 'type', 'veth', 'peer', 'name', port]);
    await run('ip', ['link', 'set', port, 'netns', bridge.name]);
    await run('ip', ['-n', bridge.name, 'link', 'set', port, 'master', 'br0']);
    await run('ip', ['-n', bridge.name, 'link', 'set', port, 'up']);
  }
}

/** SIGKILLs a child and waits for it to be gone. */
function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** A named nftables counter's totals. */
export interface NftCounter {
  packets: number;
  bytes: number;
}

/** Loads an nftables ruleset (the text of `nft -f`) into `host`. */
export async function nftLoad(lab: Lab, host: LabHost, ruleset: string): Promise<void> {
  await lab.exec(host, ['nft', '-f', '-'], ruleset);
}

/** The named counters of one nftables table in `host`, by name. */
export async function nftCounters(
  lab: Lab,
  host: LabHost,
  family: string,
  table: string,
): Promise<Map<string, NftCounter>> {
  const json = await lab.exec(host, ['nft', '-j', 'list', 'counters', 'table', family, table]);
  const parsed = JSON.parse(json) as { nftables: { counter?: NftCounter & { name: string } }[] };
  const counters = new Map<string, NftCounter>();
  for (const item of parsed.nftables) {
    if (item.counter) {
      counters.set(item.counter.name, {
        packets: item.counter.packets,
        bytes: item.counter.bytes,
      });
    }
  }
  return counters;
}
