import { build } from 'esbuild';

export interface BrowserBundle {
  /** The ES module, as served to the page. */
  code: string;
  /** Every file esbuild put in (repository-relative paths, `node:*`, `(disabled):*`...). */
  inputs: string[];
}

/**
 * Bundles `entry` (e.g. `peer/browser/index.ts`) for browsers into one ES module. esbuild with
 * platform 'browser' refuses to resolve Node built-ins, so this fails on a Node-only import.
 */
export async function bundleForBrowser(entry: string): Promise<BrowserBundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
    outfile: 'bundle.js',
  });
  const [output] = result.outputFiles;
  if (!output || result.outputFiles.length !== 1) throw new Error('expected one output file');
  return { code: output.text, inputs: Object.keys(result.metafile.inputs) };
}
