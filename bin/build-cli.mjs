#!/usr/bin/env node
/**
 * Compiles the CLI's TypeScript (src/ and the lib/ modules the demo reads) to ES modules in dist/,
 * file by file with esbuild, so `mesh-cert-watch` starts without a TypeScript loader. Run by
 * `prepare` (so `npm ci` / `npm install` build it) and by `npm test`; `npm run build` by hand after
 * editing sources (the launcher notices stale output and runs the sources meanwhile).
 * Type checking stays with `tsc --noEmit` (npm run typecheck): this only strips types.
 * Builds into a temporary folder and swaps it in, so a CLI starting meanwhile never sees half a build.
 *
 * It also links the launcher as node_modules/.bin/mesh-cert-watch. package.json deliberately has
 * no `bin`: npx treats a bin of the project itself as a package to install and loads the whole
 * dependency tree first (~2 s), while a command in node_modules/.bin starts at once (as `tsc` does).
 */
import { existsSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SOURCE_DIRS = ['src', 'lib'];

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  // Installed without devDependencies: the launcher runs the sources through tsx instead.
  console.error('build-cli: esbuild is not installed; mesh-cert-watch will run from the TypeScript sources (slower start).');
  process.exit(0);
}

const entryPoints = SOURCE_DIRS.flatMap((dir) =>
  readdirSync(join(root, dir), { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => join(root, dir, file)),
);
const staging = join(root, `dist.building-${process.pid}`);
const started = performance.now();
await esbuild.build({
  entryPoints,
  outdir: staging,
  outbase: root,
  bundle: false,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
});
// The launcher compares source mtimes with this file's.
writeFileSync(join(staging, 'BUILT'), `${new Date().toISOString()}\n`);
const target = join(root, 'dist');
const old = join(root, `dist.old-${process.pid}`);
if (existsSync(target)) renameSync(target, old);
renameSync(staging, target);
rmSync(old, { recursive: true, force: true });
linkCommand();
if (!process.argv.includes('--quiet')) {
  console.error(`build-cli: ${entryPoints.length} files → dist/ in ${Math.round(performance.now() - started)} ms`);
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
