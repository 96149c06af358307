/**
 * Start-up of the CLI as users run it: `npx mesh-cert-watch --version` / `--help` against
 * `npx tsc --version`, interleaved in one run (so machine load hits all alike), median of N.
 * Goal: within 1.5× of tsc.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { printTable, verdict } from './report.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

// Static example credentials: `token` signs locally and never calls AWS.
const env = { ...process.env, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', AWS_EC2_METADATA_DISABLED: 'true' };

function timeMs(command: string, args: string[]): number {
  const started = performance.now();
  const run = spawnSync(command, args, { cwd: root, encoding: 'utf8', env });
  const elapsed = performance.now() - started;
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function benchStartup(runs = Number(process.env.BENCH_STARTUP_RUNS ?? 7)): Promise<void> {
  const build = spawnSync(process.execPath, ['bin/build-cli.mjs', '--quiet'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
  const commands: [string, string, string[]][] = [
    ['npx tsc --version', 'npx', ['tsc', '--version']],
    ['npx mesh-cert-watch --version', 'npx', ['mesh-cert-watch', '--version']],
    ['npx mesh-cert-watch --help', 'npx', ['mesh-cert-watch', '--help']],
    ['node bin/mesh-cert-watch.mjs --version', process.execPath, ['bin/mesh-cert-watch.mjs', '--version']],
    ['node bin/mesh-cert-watch.mjs --help', process.execPath, ['bin/mesh-cert-watch.mjs', '--help']],
    // What kubectl runs before each call when the kubeconfig uses the exec plugin.
    ['node bin/mesh-cert-watch.mjs token …', process.execPath, ['bin/mesh-cert-watch.mjs', 'token', '--cluster', 'bench', '--region', 'eu-west-1']],
    ['system node bin/mesh-cert-watch.mjs --version', '/usr/bin/env', ['-u', 'PATH', 'PATH=/usr/local/bin:/usr/bin:/bin', 'node', 'bin/mesh-cert-watch.mjs', '--version']],
  ];
  const samples = commands.map(() => [] as number[]);
  for (const [, command, args] of commands) timeMs(command, args); // warm the file cache
  for (let run = 0; run < runs; run++) commands.forEach(([, command, args], i) => samples[i]!.push(timeMs(command, args)));
  const medians = samples.map(median);
  const tsc = medians[0]!;
  printTable(
    `Start-up (median of ${runs}, interleaved)`,
    ['COMMAND', 'MEDIAN', 'MIN', 'VS TSC'],
    commands.map(([label], i) => [label, `${medians[i]!.toFixed(0)} ms`, `${Math.min(...samples[i]!).toFixed(0)} ms`, `${(medians[i]! / tsc).toFixed(2)}×`]),
  );
  const worst = Math.max(medians[1]!, medians[2]!) / tsc;
  console.log(`npx mesh-cert-watch --version/--help: ${worst.toFixed(2)}× npx tsc --version (goal ≤ 1.5×: ${verdict(worst <= 1.5)})`);
}
