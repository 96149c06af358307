#!/usr/bin/env node
/**
 * Builds the CLI into dist/cli/: one esbuild bundle of src/cli/main.ts with its dependencies,
 * split at each command's dynamic import, so `mesh-cert-watch` starts without a TypeScript
 * loader, `--help` loads a few kilobytes, and a command loads only its own chunks (client-node
 * tree-shaken to the API groups used: a sweep starts at ~75 MB RSS instead of ~130 MB with
 * per-file output). Identifiers are kept, so stack traces stay readable.
 * Run by `prepare` (so `npm ci` / `npm install` build it) and by `npm test`; `npm run build` by
 * hand after editing sources (the launcher notices stale output and runs the sources meanwhile).
 * Type checking stays with `tsc --noEmit` (npm run typecheck).
 * Builds into a temporary folder and swaps it in, so a CLI starting meanwhile never sees half a build.
 *
 * It also links the launcher as node_modules/.bin/mesh-cert-watch. package.json deliberately has
 * no `bin`: npx treats a bin of the project itself as a package to install and loads the whole
 * dependency tree first (~2 s), while a command in node_modules/.bin starts at once (as `tsc` does).
 */
import { existsSync, mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  // Installed without devDependencies: the launcher runs the sources through tsx instead.
  console.error('build-cli: esbuild is not installed; mesh-cert-watch will run from the TypeScript sources (slower start).');
  process.exit(0);
}

const staging = join(root, `dist.building-${process.pid}`);
const started = performance.now();
await esbuild.build({
  entryPoints: [join(root, 'src', 'cli', 'main.ts')],
  outdir: join(staging, 'cli'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  // client-node and middy are ESM-only; `module` first picks their ESM builds.
  mainFields: ['module', 'main'],
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: true,
  sourcesContent: false,
  // The demo loads the local DynamoDB engine (a devDependency) with require() at run time.
  external: ['dynalite'],
  // As the Lambda bundles (lib/bundling/esbuild-options.ts): client-node's undici imports load
  // only fetch/Agent/ProxyAgent, and undici leaves out its experimental Milo parser. Less code
  // loaded is less memory for every command that talks to a cluster.
  alias: { undici: join(root, 'lib', 'bundling', 'undici-fetch.mjs') },
  define: { esbuildDetection: 'true' },
  // CommonJS dependencies bundled into ES modules still call require().
  banner: { js: "import { createRequire as __mcwCreateRequire } from 'node:module'; const require = __mcwCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
writeFileSync(join(staging, 'BUILT'), `${new Date().toISOString()}\n`);
const target = join(root, 'dist');
const old = join(root, `dist.old-${process.pid}`);
if (existsSync(target)) renameSync(target, old);
renameSync(staging, target);
rmSync(old, { recursive: true, force: true });
linkCommand();
if (!process.argv.includes('--quiet')) {
  console.error(`build-cli: src/cli/main.ts → dist/cli/ in ${Math.round(performance.now() - started)} ms`);
}

/** node_modules/.bin/mesh-cert-watch → bin/mesh-cert-watch.mjs (what npx and npm scripts find first). */
function linkCommand() {
  const binDir = join(root, 'node_modules', '.bin');
  if (!existsSync(join(root, 'node_modules'))) return;
  mkdirSync(binDir, { recursive: true });
  const link = join(binDir, 'mesh-cert-watch');
  const target = '../../bin/mesh-cert-watch.mjs';
  try {
    if (readlinkSync(link) === target) return;
    rmSync(link, { force: true });
  } catch {
    rmSync(link, { force: true });
  }
  symlinkSync(target, link);
}
