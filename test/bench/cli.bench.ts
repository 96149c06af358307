/**
 * Bench section `cli`: the real CLI as a user runs it (`node bin/mesh-cert-watch.mjs sweep`, a
 * separate process, start-up included) against the emulator in its own process (100 ms exec
 * latency), at 500 and 5,000 pods (BENCH_CLI_SIZES), in `--output json` and table modes.
 * Prints wall time against the floor N·L/C and peak RSS. Goals: ≤ 1.2× the floor at 5,000 pods;
 * peak RSS ≤ 150 MB and at 5,000 pods within 1.2× of 500 pods, in both modes.
 * Then the loop a user would write with kubectl (`kubectl get pods` + one `kubectl exec` per pod,
 * sequential) on a sample of BENCH_KUBECTL_SAMPLE pods of the same emulator, extrapolated to all
 * pods, against the CLI's time. Goal: the CLI ≥ 50× faster.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mb, printTable, verdict } from './report.js';
import { firstLine } from './sweep.bench.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const latencyMs = 100;
const concurrency = 32;

function startCluster(pods: number): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(root, 'test/bench/emulated-cluster.ts'), String(pods), String(latencyMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

async function stopCluster(cluster: ChildProcess): Promise<void> {
  cluster.kill('SIGTERM');
  if (cluster.exitCode === null) await once(cluster, 'exit');
}

interface CliRun {
  readonly wallMs: number;
  readonly peakRssBytes: number;
  readonly sampled: number;
}

/** One `sweep` through the launcher; stdout to a file, peak RSS from the preloaded probe. */
async function runCliSweep(kubeconfig: string, output: 'json' | 'table'): Promise<CliRun> {
  const dir = mkdtempSync(join(tmpdir(), 'mcw-bench-cli-'));
  const outFile = join(dir, 'out');
  try {
    const started = performance.now();
    const child = spawn(
      'sh',
      ['-c', `exec "$0" bin/mesh-cert-watch.mjs sweep --kubeconfig "$1" --output "$2" --concurrency ${concurrency} --quiet > "$3"`, process.execPath, kubeconfig, output, outFile],
      { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: `--import=${join(root, 'test/bench/rss-probe.mjs')}` } },
    );
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    const wallMs = performance.now() - started;
    if (code !== 0) throw new Error(`sweep exited ${code}: ${stderr}`);
    const peak = /MCW_BENCH_PEAK_RSS (\d+)/.exec(stderr);
    const text = readFileSync(outFile, 'utf8');
    const sampled = output === 'json' ? (JSON.parse(text) as { summary: { sampled: number } }).summary.sampled : Number(/sampled (\d+),/.exec(text)?.[1] ?? NaN);
    return { wallMs, peakRssBytes: Number(peak?.[1] ?? NaN), sampled };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The sequential loop a user would write, on the first `sample` pods; ms per pod. */
function kubectlLoop(kubeconfig: string, sample: number): { totalMs: number; perPodMs: number; ok: number } {
  const script = `
    kubectl --kubeconfig "$0" get pods -A -o jsonpath='{range .items[*]}{.metadata.namespace}{" "}{.metadata.name}{"\\n"}{end}' | head -n "$1" |
    while read -r ns pod; do
      kubectl --kubeconfig "$0" exec -n "$ns" "$pod" -c istio-proxy -- pilot-agent request GET 'config_dump?resource=dynamic_active_secrets' > /dev/null && echo ok
    done`;
  const started = performance.now();
  const run = spawnSync('bash', ['-c', script, kubeconfig, String(sample)], { encoding: 'utf8' });
  const totalMs = performance.now() - started;
  const ok = run.stdout.split('\n').filter((l) => l === 'ok').length;
  if (run.status !== 0 || ok === 0) throw new Error(`kubectl loop failed (${run.status}): ${run.stderr.slice(0, 500)}`);
  return { totalMs, perPodMs: totalMs / ok, ok };
}

export async function benchCli(sizes: readonly number[] = (process.env.BENCH_CLI_SIZES ?? '500,5000').split(',').map(Number)): Promise<void> {
  const build = spawnSync(process.execPath, ['bin/build-cli.mjs', '--quiet'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
  const sample = Number(process.env.BENCH_KUBECTL_SAMPLE ?? 30);
  const rows: string[][] = [];
  const results = new Map<string, CliRun>();
  let kubectl: { perPodMs: number; ok: number } | undefined;
  for (const pods of sizes) {
    const cluster = startCluster(pods);
    try {
      const kubeconfig = await firstLine(cluster);
      for (const output of ['json', 'table'] as const) {
        const run = await runCliSweep(kubeconfig, output);
        results.set(`${output}:${pods}`, run);
        const floorMs = (pods * latencyMs) / concurrency;
        rows.push([output, String(pods), String(run.sampled), `${(run.wallMs / 1000).toFixed(2)} s`, `${(floorMs / 1000).toFixed(2)} s`, `${(run.wallMs / floorMs).toFixed(3)}×`, mb(run.peakRssBytes)]);
      }
      if (pods === sizes.at(-1)) {
        if (spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0) kubectl = kubectlLoop(kubeconfig, sample);
        else console.log('kubectl is not on the PATH: the kubectl-loop comparison is NOT measured');
      }
    } finally {
      await stopCluster(cluster);
    }
  }
  printTable(`CLI sweep (node bin/mesh-cert-watch.mjs, start-up included, ${latencyMs} ms exec latency, C=${concurrency})`, ['OUTPUT', 'PODS', 'SAMPLED', 'WALL', 'FLOOR N·L/C', 'RATIO', 'PEAK RSS'], rows);
  const small = sizes[0]!;
  const large = sizes.at(-1)!;
  const lines: string[] = [];
  for (const output of ['json', 'table']) {
    const a = results.get(`${output}:${small}`)!;
    const b = results.get(`${output}:${large}`)!;
    const rssRatio = b.peakRssBytes / a.peakRssBytes;
    const peak = Math.max(a.peakRssBytes, b.peakRssBytes) / 2 ** 20;
    lines.push(
      `${output}: peak RSS ${large} vs ${small} pods ${rssRatio.toFixed(2)}× (goal ≤ 1.2×: ${verdict(rssRatio <= 1.2)}), at most ${peak.toFixed(0)} MB (goal ≤ 150 MB: ${verdict(peak <= 150)})`,
    );
  }
  const json = results.get(`json:${large}`)!;
  const ratio = json.wallMs / ((large * latencyMs) / concurrency);
  lines.push(`${large} pods (json): ${ratio.toFixed(3)}× the floor N·L/C including start-up (goal ≤ 1.2×: ${verdict(ratio <= 1.2)})`);
  if (kubectl) {
    const loopMs = kubectl.perPodMs * large;
    const speedup = loopMs / json.wallMs;
    lines.push(
      `kubectl loop (get pods + one kubectl exec per pod, sequential): ${kubectl.perPodMs.toFixed(0)} ms a pod over ${kubectl.ok} pods → ${(loopMs / 1000).toFixed(0)} s for ${large} pods; the CLI is ${speedup.toFixed(0)}× faster (goal ≥ 50×: ${verdict(speedup >= 50)})`,
    );
  }
  console.log(lines.join('\n'));
}
