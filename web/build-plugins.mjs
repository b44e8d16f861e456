// Bundles the built-in plugins whose front end imports npm packages (Graphs: @dagrejs/dagre,
// Mesh and Projector: three) into src/tbx/viewer/static/dist/plugins/<name>/ (git-ignored,
// shipped in the wheel with the page's bundle). Their sources live in
// src/tbx/viewer/plugins/<name>/, outside this folder, so node_modules is passed as a search path.
import { build } from 'esbuild';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = dirname(fileURLToPath(import.meta.url));
const plugins = resolve(web, '../src/tbx/viewer/plugins');
const out = resolve(web, '../src/tbx/viewer/static/dist/plugins');

// [plugin, entry file, format]: a web worker is a classic script (iife), the rest ES modules.
const ENTRIES = [
  ['graphs', 'index.js', 'esm'],
  ['graphs', 'layout_worker.js', 'iife'],
  ['mesh', 'index.js', 'esm'],
  ['projector', 'index.js', 'esm'],
];

await Promise.all(ENTRIES.map(([name, file, format]) => build({
  entryPoints: [resolve(plugins, name, file)],
  outfile: resolve(out, name, file),
  bundle: true,
  format,
  target: 'es2020',
  minify: true,
  sourcemap: true,
  nodePaths: [resolve(web, 'node_modules')],
  logLevel: 'warning',
})));
