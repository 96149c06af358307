/**
 * `mesh-cert-watch simulate [--pods N] [--broken P%] [--hours H] [--seed S] ...`: the watcher
 * against the 45-minute restart CronJob on a modelled mesh (src/sandbox/simulation/), and what the
 * watcher costs per month for that many pods. No cluster, no AWS.
 */
import { UsageError } from '../core/model/errors.js';
import { SAMPLER_BENCHMARK } from '../sandbox/simulation/cost.js';
import { deploymentDefaults, renderSimulation, runSimulation } from '../sandbox/simulation/report.js';
import { parseCommandArgs } from './input.js';

export const SIMULATE_HELP = `Usage: mesh-cert-watch simulate [options]

Models a mesh minute by minute (no Kubernetes): 1 h certificates renewed at half-life, a share
of pods that stop renewing at random times, and either the watcher (a sweep every 5 minutes,
restarts of expiring/expired pods under the deployment's cooldown, hourly budget and breaker)
or the CronJob that restarts every pod every 45 minutes. Reports pod restarts per day under
each, the certificates that reached expiry, the ratio, and what the watcher costs per month for
that many pods, broken down per cluster, per pod and per deployment (us-east-1 list prices; the
sampler's duration from the benchmark's N·L/C model).

Options:
  --pods N                 pods in the mesh                            [default 1000]
  --broken P               share of pods that stop rotating: 5% or 0.05  [default 5%]
  --hours H                simulated time                              [default 24]
  --seed S                 random seed (same seed, same result)        [default 1]
  --replicas R             pods per workload (a restart replaces all)  [default 2]
  --budget N               restarts per cluster per clock hour         [default: deployment's, 5]
  --concurrency C          sampler concurrency, for the cost           [default: deployment's, 16]
  --exec-latency D         one exec's latency, for the cost (e.g. 150ms) [default ${SAMPLER_BENCHMARK.execLatencyMs}ms]
  -o, --output FORMAT      table (default) or json
  --report FILE            also write the run as one self-contained HTML page (charts of
                           pods per state, remaining validity, restarts, the cost)
`;

const OPTIONS = {
  pods: { type: 'string' },
  broken: { type: 'string' },
  hours: { type: 'string' },
  seed: { type: 'string' },
  replicas: { type: 'string' },
  budget: { type: 'string' },
  concurrency: { type: 'string' },
  'exec-latency': { type: 'string' },
  output: { type: 'string', short: 'o' },
  report: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface SimulateCommandIo {
  readonly stdout: (text: string) => void;
}

function integer(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(flag, `must be an integer from ${min} to ${max}, got "${text}"`);
  return value;
}

/** `5%` or `0.05`. */
export function parseShare(text: string): number {
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  const value = percent ? Number(percent[1]) / 100 : Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) throw new UsageError('--broken', `must be a share such as 5% or 0.05 (0 to 100%), got "${text}"`);
  return value;
}

function hours(text: string | undefined): number {
  if (text === undefined) return 24;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > 744) throw new UsageError('--hours', `must be a number of hours above 0, at most 744 (31 days), got "${text}"`);
  return value;
}

function milliseconds(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const match = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(text.trim());
  if (!match) throw new UsageError('--exec-latency', `must be a duration such as 100ms or 0.2s, got "${text}"`);
  const value = Number(match[1]) * (match[2] === 's' ? 1000 : 1);
  if (value <= 0 || value > 60_000) throw new UsageError('--exec-latency', `must be above 0 and at most 60s, got "${text}"`);
  return value;
}

export async function simulateCommand(args: readonly string[], io: SimulateCommandIo): Promise<number> {
  const { values } = parseCommandArgs(args, OPTIONS, false);
  if (values.help) {
    io.stdout(SIMULATE_HELP);
    return 0;
  }
  const text = (key: keyof typeof OPTIONS): string | undefined => (typeof values[key] === 'string' ? values[key] : undefined);
  const output = text('output') ?? 'table';
  if (output !== 'table' && output !== 'json') throw new UsageError('--output', `must be "table" or "json", got "${output}"`);
  const defaults = deploymentDefaults();
  const report = runSimulation(
    {
      ...defaults.settings,
      pods: integer('--pods', text('pods'), 1000, 1, 100_000),
      brokenShare: text('broken') === undefined ? 0.05 : parseShare(text('broken')!),
      hours: hours(text('hours')),
      seed: integer('--seed', text('seed'), 1, 0, 2 ** 31 - 1),
      replicas: integer('--replicas', text('replicas'), 2, 1, 1000),
      budgetPerHour: integer('--budget', text('budget'), defaults.settings.budgetPerHour, 0, 100_000),
    },
    {
      ...defaults.cost,
      concurrency: integer('--concurrency', text('concurrency'), defaults.cost.concurrency, 1, 64),
      execLatencyMs: milliseconds(text('exec-latency'), defaults.cost.execLatencyMs),
    },
  );
  // Infinity (the watcher restarted nothing) is not JSON: report it as null. The per-sweep
  // timeline is for the HTML report only.
  const { timeline: _timeline, ...result } = report.result;
  io.stdout(output === 'json' ? `${JSON.stringify({ ...report, result, ratio: Number.isFinite(report.ratio) ? report.ratio : null }, null, 2)}\n` : renderSimulation(report));
  const reportFile = text('report');
  if (reportFile !== undefined) {
    const { writeReport } = await import('../sandbox/report/write-report.js');
    const { simulationReportData } = await import('../sandbox/report/html-report.js');
    const written = await writeReport(reportFile, await simulationReportData(report));
    // JSON on stdout stays parseable: the note goes with the table only.
    if (output === 'table') io.stdout(written);
  }
  return 0;
}
