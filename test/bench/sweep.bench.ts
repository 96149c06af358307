/**
 * `npm run bench`: sweeps emulated clusters of 500, 2,000 and 5,000 injected pods with 100 ms
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

const sizes = (process.env.BENCH_SIZES ?? '500,2000,5000').split(',').map(Number);
const latencyMs = 100;
const concurrency = 32;
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

function nodeTs(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', here(script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

function nodeJs(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

const sweeperBundle = fileURLToPath(new URL('../../.cache/bench/sweeper.mjs', import.meta.url));
await build({
  entryPoints: [here('./sweeper.ts')],
  outfile: sweeperBundle,
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  logLevel: 'warning',
  // Some dependencies still call require(); give the ESM bundle one.
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
});

async function firstLine(child: ChildProcess): Promise<string> {
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
}

const rows: string[][] = [['PODS', 'WALL', 'PODS/S', 'FLOOR N·L/C', 'RATIO', 'PEAK RSS', 'SWEEPER CPU', 'HEALTHY', 'UNREACHABLE']];
const results: { pods: number; ratio: number; rssMb: number }[] = [];
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
    results.push({ pods, ratio, rssMb });
    rows.push([
      String(pods),
      `${(figures.wallMs / 1000).toFixed(2)} s`,
      (pods / (figures.wallMs / 1000)).toFixed(0),
      `${(floorMs / 1000).toFixed(2)} s`,
      `${ratio.toFixed(3)}×`,
      `${rssMb.toFixed(0)} MB`,
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
const worstRatio = Math.max(...results.map((r) => r.ratio));
const rssGrowth = results.length > 1 ? results.at(-1)!.rssMb / results[0]!.rssMb : 1;
const peak = Math.max(...results.map((r) => r.rssMb));
console.log(`\nworst ratio to floor ${worstRatio.toFixed(3)}× (goal ≤ 1.25×); peak RSS ${peak.toFixed(0)} MB (goal < 256 MB); RSS ${results.at(-1)?.pods ?? 0} vs ${results[0]?.pods ?? 0} pods: ${rssGrowth.toFixed(2)}× (flat ≈ 1×)`);
