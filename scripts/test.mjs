#!/usr/bin/env node
// The README's test command. On Linux as root with `unshare` available (and not already
// isolated), it re-runs itself inside a fresh network namespace where only loopback is up, so
// nothing a test starts (WebRTC, mDNS, servers) can reach a real interface. Elsewhere it runs
// the suite directly.
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const run = (cmd, argv, env = process.env) =>
  spawnSync(cmd, argv, { stdio: 'inherit', env }).status ?? 1;

function canIsolate() {
  if (process.platform !== 'linux' || process.env.MESHSYNC_ISOLATED === '1') return false;
  if (process.env.MESHSYNC_NO_ISOLATION === '1') return false;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  const probe = spawnSync('unshare', ['-n', '--', 'sh', '-c', 'ip link set lo up'], {
    stdio: 'ignore',
  });
  return probe.status === 0;
}

if (canIsolate()) {
  console.log('meshsync tests: running inside a fresh network namespace (loopback only)');
  const inner = [
    '-n',
    '--',
    'sh',
    '-c',
    'ip link set lo up && MESHSYNC_ISOLATED=1 exec npm run --silent test:all -- "$@"',
    'test',
    ...args,
  ];
  process.exit(run('unshare', inner));
} else {
  if (process.env.MESHSYNC_ISOLATED !== '1') {
    console.log('meshsync tests: no network namespace available here; running directly');
  }
  process.exit(run('npm', ['run', '--silent', 'test:all', '--', ...args]));
}
