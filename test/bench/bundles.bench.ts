/**
 * Bench section `bundles`: each Lambda handler bundled exactly as the stack bundles it (the
 * options of lib/bundling/esbuild-options.ts), its size against the goal, the largest packages
 * in it (esbuild metafile), and the cold-start import time of the bundle (median of 5 fresh
 * processes). Goals: sampler and remediator ≤ 2.0 MB, notifier ≤ 600 KB.
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE_SIZE_GOALS, esbuildBuildOptions } from '../../lib/bundling/esbuild-options.js';
import { printTable, verdict } from './report.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const GOALS: Record<string, number> = BUNDLE_SIZE_GOALS;

function packageOf(file: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  return match ? match[1]! : file.split('/').slice(0, 2).join('/');
}

function importMs(bundle: string): number {
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const probe = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `const t = performance.now(); await import(${JSON.stringify(bundle)}); console.log(performance.now() - t);`],
      { encoding: 'utf8', env: { ...process.env, AWS_REGION: 'eu-west-1' } },
    );
    if (probe.status !== 0) throw new Error(`importing ${bundle} failed: ${probe.stderr}`);
    runs.push(Number(probe.stdout.trim()));
  }
  return runs.sort((a, b) => a - b)[2]!;
}

export async function benchBundles(): Promise<void> {
  const outDir = join(root, '.cache', 'bench', 'bundles');
  mkdirSync(outDir, { recursive: true });
  const rows: string[][] = [];
  const verdicts: string[] = [];
  for (const fn of Object.keys(GOALS)) {
    const outfile = join(outDir, `${fn}.mjs`);
    const result = await build({ ...esbuildBuildOptions(join(root, 'functions', fn, 'handler.ts'), outfile), metafile: true });
    // The bundle itself, not its source map.
    const output = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('.mjs'))![1];
    const byPackage = new Map<string, number>();
    for (const [file, info] of Object.entries(output.inputs)) byPackage.set(packageOf(file), (byPackage.get(packageOf(file)) ?? 0) + info.bytesInOutput);
    const top = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(0)}K`);
    const goal = GOALS[fn]!;
    rows.push([fn, `${(output.bytes / 1e6).toFixed(2)} MB`, `${(goal / 1e6).toFixed(1)} MB`, `${importMs(outfile).toFixed(0)} ms`, top.join(', ')]);
    verdicts.push(`${fn} ${(output.bytes / 1e6).toFixed(2)} MB (goal ≤ ${(goal / 1e6).toFixed(1)} MB: ${verdict(output.bytes <= goal)})`);
  }
  printTable('Lambda bundles (as the stack bundles them; import = cold-start module load, median of 5)', ['FUNCTION', 'SIZE', 'GOAL', 'IMPORT', 'LARGEST PACKAGES'], rows);
  console.log(verdicts.join('; '));
}
