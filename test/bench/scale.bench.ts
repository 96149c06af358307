/**
 * `npm run bench -- scale` (opt-in: several minutes): the sampler's engine as the Lambda runs it
 * (sweepCluster, esbuild bundle, its own process) against an emulated cluster of 20,000 and 50,000
 * tbot pods (BENCH_SCALE_SIZES) in another process, exec latency log-normal with a 300 ms median
 * and a long tail (σ 0.6: mean 359 ms, p99 ≈ 1.2 s), concurrency 64, exec pacing off so the
 * figures show what one process can do. Two sweeps per size: the first (every pod new) and one
 * 5 minutes later with the history the first wrote (due-based sampling: about a quarter of the
 * pods are past their renewal point), and one 30 minutes after the first without any renewal (an
 * issuer outage: every pod sampled, every pod stale, an Unhealthy event each). Prints time, ratio
 * to the floor N·L̄/C, execs, CPU per exec, peak heap and RSS; the README's "Scale and sizing"
 * turns them into the single-invocation ceiling.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { bundleForBench, firstLine } from './sweep.bench.js';

const MEDIAN_MS = 300;
const SIGMA = 0.6;
const MEAN_MS = MEDIAN_MS * Math.exp((SIGMA * SIGMA) / 2);
const CONCURRENCY = 64;
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const sweeperBundle = fileURLToPath(new URL('../../.cache/bench/scale-sweeper.mjs', import.meta.url));

interface SweepFigures {
  sweep: number;
  wallMs: number;
  cpuMs: number;
  pods: number;
  execs: number;
  healthy: number;
  unreachable: number;
  partial: boolean;
  peakHeapBytes: number;
  peakRssBytes: number;
  snapshotBytes: number;
}

export interface ScaleFigures extends SweepFigures {
  readonly floorMs: number;
}

export async function benchScale(sizes: readonly number[] = (process.env.BENCH_SCALE_SIZES ?? '20000,50000').split(',').map(Number)): Promise<ScaleFigures[]> {
  await bundleForBench(here('./scale-sweeper.ts'), sweeperBundle);
  console.log(
    `\n## Scale: sweepCluster (esbuild bundle) over ${sizes.map((n) => n.toLocaleString('en-US')).join(' and ')} tbot pods, exec latency log-normal ` +
      `(median ${MEDIAN_MS} ms, mean ${MEAN_MS.toFixed(0)} ms), C=${CONCURRENCY}, no exec pacing; sweep 2 is 5 min later with history (due-based), sweep 3 30 min later without renewals (every pod sampled and stale)`,
  );
  const rows: string[][] = [['PODS', 'SWEEP', 'EXECS', 'WALL', 'FLOOR N·L̄/C', 'RATIO', 'CPU', 'CPU/EXEC', 'CPU/POD', 'PEAK HEAP', 'PEAK RSS', 'SNAPSHOT', 'HEALTHY']];
  const all: ScaleFigures[] = [];
  for (const pods of sizes) {
    const cluster: ChildProcess = spawn(process.execPath, ['--import', 'tsx', here('./scale-cluster.ts'), String(pods), String(MEDIAN_MS), String(SIGMA)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const kubeconfig = await firstLine(cluster);
      const sweeper = spawn(process.execPath, ['--expose-gc', sweeperBundle, kubeconfig, String(CONCURRENCY), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const lines: string[] = [];
      sweeper.stdout!.setEncoding('utf8').on('data', (chunk: string) => lines.push(chunk));
      await once(sweeper, 'exit');
      for (const line of lines.join('').split('\n').filter(Boolean)) {
        const figures = JSON.parse(line) as SweepFigures;
        const floorMs = (figures.execs * MEAN_MS) / CONCURRENCY;
        all.push({ ...figures, floorMs });
        console.log(`  ${pods} pods, sweep ${figures.sweep}: ${JSON.stringify(figures)}`);
        rows.push([
          pods.toLocaleString('en-US'),
          figures.sweep === 1 ? '1 (all new)' : figures.sweep === 2 ? '2 (history)' : '3 (all stale)',
          figures.execs.toLocaleString('en-US'),
          `${(figures.wallMs / 1000).toFixed(1)} s`,
          `${(floorMs / 1000).toFixed(1)} s`,
          floorMs > 0 ? `${(figures.wallMs / floorMs).toFixed(2)}×` : '-',
          `${(figures.cpuMs / 1000).toFixed(1)} s`,
          figures.execs > 0 ? `${(figures.cpuMs / figures.execs).toFixed(2)} ms` : '-',
          `${(figures.cpuMs / figures.pods).toFixed(2)} ms`,
          `${(figures.peakHeapBytes / 2 ** 20).toFixed(0)} MB`,
          `${(figures.peakRssBytes / 2 ** 20).toFixed(0)} MB`,
          `${(figures.snapshotBytes / 2 ** 20).toFixed(1)} MB`,
          `${figures.healthy.toLocaleString('en-US')}${figures.partial ? ' (partial)' : ''}`,
        ]);
      }
    } finally {
      cluster.kill('SIGTERM');
      await once(cluster, 'exit');
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log(rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n'));
  const largest = all.filter((f) => f.pods === Math.max(...sizes));
  const due = largest.find((f) => f.sweep === 2);
  if (due) {
    console.log(
      `${due.pods.toLocaleString('en-US')} pods, due-based sweep: ${due.execs.toLocaleString('en-US')} execs, ${(due.cpuMs / 1000).toFixed(1)} s CPU, peak heap ${(due.peakHeapBytes / 2 ** 20).toFixed(0)} MB; ` +
        `at the sampler's 50 exec starts/s those execs take ${(due.execs / 50).toFixed(0)} s of a 5-minute interval.`,
    );
  }
  return all;
}
