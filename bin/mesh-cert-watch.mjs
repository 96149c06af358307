#!/usr/bin/env node
/**
 * CLI launcher (written for any Node from 18 on: it is what an old system Node runs first).
 * 1. On Node < 22 it re-executes itself with the Node 22 the project installs (devDependency
 *    `node`, node_modules/node/bin/node), so `npx --prefix <checkout> mesh-cert-watch` and the
 *    kubeconfig exec plugin (`token`) work from any directory and any PATH.
 * 2. It runs the compiled CLI in dist/ (built by `npm ci` through `prepare`, or `npm run build`).
 *    When dist/ is missing or older than a source file, it runs the TypeScript sources through
 *    tsx instead (correct, about a second slower) and says so on stderr.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MIN_NODE = 22;
const REEXEC_MARK = 'MESH_CERT_WATCH_REEXEC';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const major = Number(process.versions.node.split('.')[0]);

if (major < MIN_NODE) {
  await reexecOnProjectNode();
} else {
  const compiled = join(root, 'dist', 'src', 'cli', 'main.js');
  let mainModule;
  if (isCurrent(compiled)) {
    mainModule = await import(pathToFileURL(compiled).href);
  } else {
    process.stderr.write(
      existsSync(compiled)
        ? 'mesh-cert-watch: sources changed since the last build; running them through tsx (run "npm run build" for a fast start)\n'
        : 'mesh-cert-watch: no build in dist/; running the sources through tsx (run "npm run build" for a fast start)\n',
    );
    const { register } = await import('tsx/esm/api');
    register();
    mainModule = await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
  }
  process.exitCode = await mainModule.main(process.argv.slice(2));
}

/** dist/ exists and no source file changed after it was built (a few ms of stat calls). */
function isCurrent(compiled) {
  let built;
  try {
    built = statSync(join(root, 'dist', 'BUILT')).mtimeMs;
  } catch {
    return false;
  }
  if (!existsSync(compiled)) return false;
  for (const dir of ['src', 'lib']) {
    let files;
    try {
      files = readdirSync(join(root, dir), { recursive: true });
    } catch {
      continue; // an installed package without sources runs what it has
    }
    for (const file of files) {
      if (String(file).endsWith('.ts') && statSync(join(root, dir, String(file))).mtimeMs > built) return false;
    }
  }
  return true;
}

/** Runs this launcher again on the project's Node; exits with its code (or its signal). */
async function reexecOnProjectNode() {
  let projectNode;
  try {
    projectNode = join(dirname(createRequire(import.meta.url).resolve('node/package.json')), 'bin', 'node');
  } catch {
    projectNode = undefined;
  }
  if (process.env[REEXEC_MARK] || !projectNode || !existsSync(projectNode)) {
    process.stderr.write(
      `mesh-cert-watch needs Node >= ${MIN_NODE} (this is ${process.version}) and found no project Node 22 ` +
        `(${projectNode ?? 'node_modules/node not installed'}); run "npm ci" in ${root}.\n`,
    );
    process.exit(2);
  }
  const { spawn } = await import('node:child_process');
  const child = spawn(projectNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, [REEXEC_MARK]: process.version },
  });
  // The child shares the terminal, so Ctrl-C reaches it directly; forward what is sent to us alone.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    process.stderr.write(`mesh-cert-watch: cannot start ${projectNode}: ${error.message}\n`);
    process.exit(2);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else {
      process.exit(code ?? 1);
    }
  });
}
