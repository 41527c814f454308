#!/usr/bin/env node
// The isomorphic code (shared/ and the core of peer/) must bundle for the browser with no Node
// built-ins. esbuild with platform=browser fails on any `node:*` or built-in import.
import { build } from 'esbuild';

const entries = ['shared/index.ts', 'peer/index.ts', 'peer/browser/index.ts', 'shared/qr/index.ts'];
const result = await build({
  entryPoints: entries,
  bundle: true,
  platform: 'browser',
  format: 'esm',
  write: false,
  outdir: 'dist-browser-check',
  metafile: true,
  logLevel: 'silent',
}).catch((err) => {
  for (const e of err.errors ?? [])
    console.error(`browser bundle: ${e.text} (${e.location?.file ?? '?'})`);
  process.exit(1);
});
const inputs = Object.keys(result.metafile.inputs);
const bad = inputs.filter((f) => f.includes('peer/node/') || f.startsWith('node:'));
if (bad.length > 0) {
  console.error(`browser bundle pulls in Node-only files: ${bad.join(', ')}`);
  process.exit(1);
}
const bytes = result.outputFiles.reduce((n, f) => n + f.contents.length, 0);
console.log(
  `browser bundle check: ${entries.length} entries, ${inputs.length} inputs, ${bytes} bytes, no Node built-ins`,
);
