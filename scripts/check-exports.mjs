#!/usr/bin/env node
// After `npm run build`: every entry in package.json `exports` resolves by the package's own
// name, has its types file, and the main entry exposes the API the README shows.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
let failed = false;
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target === 'string') continue;
  const keys = Object.keys(target);
  if (keys[0] !== 'types') {
    console.error(`exports["${subpath}"]: "types" must come first`);
    failed = true;
  }
  if (!existsSync(new URL(`../${target.types}`, import.meta.url))) {
    console.error(`exports["${subpath}"]: missing ${target.types}`);
    failed = true;
  }
  const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
  try {
    await import(specifier);
  } catch (err) {
    console.error(`exports["${subpath}"]: import('${specifier}') failed: ${err.message}`);
    failed = true;
  }
}
const main = await import(pkg.name);
for (const name of ['createPeer', 'MemoryStore', 'createMemoryTransportPair', 'MeshsyncError']) {
  if (typeof main[name] !== 'function') {
    console.error(`main entry lacks ${name}`);
    failed = true;
  }
}
// The binary: built, executable as a script, and it answers --help.
const bin = new URL(`../${pkg.bin.meshsync}`, import.meta.url);
if (!existsSync(bin) || !readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node')) {
  console.error(`bin meshsync: ${pkg.bin.meshsync} is missing or has no #! line`);
  failed = true;
} else {
  const help = spawnSync(process.execPath, [bin.pathname, '--help'], { encoding: 'utf8' });
  if (help.status !== 0 || !help.stdout.includes('Usage: meshsync')) {
    console.error(`bin meshsync --help failed: ${help.stderr}`);
    failed = true;
  }
}
if (failed) process.exit(1);
console.log(`exports check: ${Object.keys(pkg.exports).length} entries resolve with types`);
