/**
 * Bench section `sweep`: sweeps emulated clusters of 500, 2,000 and 5,000 injected pods with 100 ms
 * exec latency at concurrency 32, and prints pods/s, wall time, the ratio to the floor N·L/C
 * and the sweeper's peak RSS. Goals: within 1.25× of the floor; peak RSS flat in N, < 256 MB.
 * Each size runs in fresh processes (emulator and sweeper apart) so figures do not leak.
 * The sweeper runs as an esbuild bundle, the way the sampler Lambda ships it.
 */
import { build } from 'esbuild';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { esbuildBuildOptions } from '../../lib/bundling/esbuild-options.js';

const latencyMs = 100;
const concurrency = 32;
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

function nodeTs(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', here(script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

function nodeJs(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--expose-gc', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

const sweeperBundle = fileURLToPath(new URL('../../.cache/bench/sweeper.mjs', import.meta.url));

export async function benchSamplerSweep(sizes: readonly number[] = (process.env.BENCH_SIZES ?? '500,2000,5000').split(',').map(Number)): Promise<void> {
  await bundleForBench(here('./sweeper.ts'), sweeperBundle);
  await measure(sizes);
}

/** Builds a bench entry the way the Lambdas ship (the stack's esbuild options): one minified ESM bundle for Node 22. */
export async function bundleForBench(entry: string, outfile: string): Promise<void> {
  await build(esbuildBuildOptions(entry, outfile));
}

export async function firstLine(child: ChildProcess): Promise<string> {
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await once(lines, 'line')) as [string];
  lines.close();
  return line;
}

interface Figures {
  wallMs: number;
  sampled: number;
  healthy: number;
  unreachable: number;
  peakRssBytes: number;
  cpuMs: number;
  retainedHeapBytes: number;
}

async function measure(sizes: readonly number[]): Promise<void> {
  console.log('\n## Sampler sweep (esbuild bundle, 100 ms exec latency, C=32)');
const rows: string[][] = [['PODS', 'WALL', 'PODS/S', 'FLOOR N·L/C', 'RATIO', 'PEAK RSS', 'HEAP AFTER GC', 'SWEEPER CPU', 'HEALTHY', 'UNREACHABLE']];
const results: { pods: number; ratio: number; rssMb: number; heapMb: number }[] = [];
for (const pods of sizes) {
  const cluster = nodeTs('./emulated-cluster.ts', [String(pods), String(latencyMs)]);
  try {
    const kubeconfig = await firstLine(cluster);
    const sweeper = nodeJs(sweeperBundle, [kubeconfig, String(concurrency)]);
    const figures = JSON.parse(await firstLine(sweeper)) as Figures;
    await once(sweeper, 'exit');
    const floorMs = (pods * latencyMs) / concurrency;
    const ratio = figures.wallMs / floorMs;
    const rssMb = figures.peakRssBytes / 2 ** 20;
    results.push({ pods, ratio, rssMb, heapMb: figures.retainedHeapBytes / 2 ** 20 });
    rows.push([
      String(pods),
      `${(figures.wallMs / 1000).toFixed(2)} s`,
      (pods / (figures.wallMs / 1000)).toFixed(0),
      `${(floorMs / 1000).toFixed(2)} s`,
      `${ratio.toFixed(3)}×`,
      `${rssMb.toFixed(0)} MB`,
      `${(figures.retainedHeapBytes / 2 ** 20).toFixed(0)} MB`,
      `${(figures.cpuMs / 1000).toFixed(1)} s (${((100 * figures.cpuMs) / figures.wallMs).toFixed(0)}%)`,
      String(figures.healthy),
      String(figures.unreachable),
    ]);
  } finally {
    cluster.kill('SIGTERM');
    await once(cluster, 'exit');
  }
}

const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
console.log(rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n'));
const largest = results.at(-1)!;
const smallest = results[0]!;
const peak = Math.max(...results.map((r) => r.rssMb));
const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
console.log(
  [
    '',
    `${largest.pods} pods: ${largest.ratio.toFixed(3)}× the floor N·L/C (goal ≤ 1.25×: ${verdict(largest.ratio <= 1.25)})`,
    `peak RSS at most ${peak.toFixed(0)} MB (goal < 256 MB: ${verdict(peak < 256)}); ${largest.pods} vs ${smallest.pods} pods: ${(largest.rssMb / smallest.rssMb).toFixed(2)}× RSS, ` +
      `${(largest.heapMb / smallest.heapMb).toFixed(2)}× heap kept after GC (${smallest.heapMb.toFixed(0)} → ${largest.heapMb.toFixed(0)} MB)`,
    'Small sweeps pay a fixed start (first list page, TLS warm-up, owner lookups) that larger ones amortise.',
  ].join('\n'),
);
}
