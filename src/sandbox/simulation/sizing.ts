/**
 * Sizing one cluster's sampler (README "Scale and sizing"): pods → execs per sweep → concurrency
 * → Lambda memory and timeout → cost per month, from measured figures only:
 * - execs per sweep: `npm run bench -- due` (the largest sweep of a simulated hour, per pod);
 * - CPU per exec and per pod, peak RSS: `npm run bench -- scale` (20,000 and 50,000 pods);
 * - the exec budget: DEFAULT_MAX_EXEC_STARTS_PER_SECOND (the cluster's: exec streams bypass API
 *   Priority and Fairness, so the sampler paces itself);
 * - prices and the sweep schedule: cost.ts and the deployment defaults.
 *
 * A sweep must end before the next one starts (the sampler's timeout is below the interval), so
 * the execs one sweep can start are `rate × (timeout − deadline margin)`: the ceiling of one
 * invocation, and of the cluster, since the rate is the cluster's budget (splitting the cluster
 * over several invocations would have to share it, not multiply it).
 */
import { DEFAULT_MAX_EXEC_STARTS_PER_SECOND, execsPerSweepCeiling, sweepDeadlineMarginSeconds } from '../../core/judgement/sampling-defaults.js';
import { HOURS_PER_MONTH, PRICES } from './cost.js';

/**
 * Measured. `due`: the largest sweep of the simulated hour over the pods, pessimistic tbot timing
 * (60 s backdated notBefore, up to 90 s issuance latency; on-time tbot and Istio-agent leaves need
 * fewer). `scale`: the sampler bundle on this 2-core machine (see README for date and load).
 */
export const SIZING_BENCHMARK = {
  /** Largest execs per sweep / pods with due-based sampling (bench `due`, 50,000 pods). */
  dueExecShareMax: 0.375,
  /** Mean execs per sweep / pods with due-based sampling (bench `due`, 50,000 pods). */
  dueExecShareMean: 0.33,
  /** Log-normal exec latency of the bench: median 300 ms, σ 0.6. */
  execLatencyMeanMs: 359,
  /**
   * CPU per exec of the sampler (TLS handshake, exec protocol, parse, judge), ms on one core: the
   * largest measured in a sweep that samples every pod (2.6-3.0 ms at 20,000 and 50,000 pods).
   */
  cpuMsPerExec: 3.0,
  /** CPU per pod listed and judged from its observation, with its share of the snapshot, ms (estimate: see README). */
  cpuMsPerPodFromHistory: 0.3,
  /**
   * Peak RSS of the sampler process, fixed part and per 1,000 pods: line through the largest
   * sweep there is, every pod sampled and stale with history (an issuer outage: an Unhealthy event
   * per pod), at 20,000 (296 MB) and 50,000 pods (446 MB), rounded up. Peak RSS of the process
   * that ran two sweeps before it, so an upper bound for one invocation.
   */
  rssBaseMb: 200,
  rssPerThousandPodsMb: 5.0,
} as const;

/** Lambda: 1,769 MB is one vCPU. */
const MB_PER_VCPU = 1769;
/** The deployment's defaults: `functions.sampler.sweepDeadlineMarginSeconds` and `clusters[].sampleTimeoutSeconds`. */
const DEFAULT_MARGINS = { marginSeconds: 20, sampleTimeoutSeconds: 15 } as const;
/** The deadline margin before the timeout: two sample timeouts plus the publish allowance. */
const DEADLINE_MARGIN_SECONDS = sweepDeadlineMarginSeconds(DEFAULT_MARGINS);
/** Time outside the exec stream: listing, owner lookups, history read and write, events. Measured share of a sweep's CPU. */
const FIXED_SECONDS = 5;

export interface SizingInput {
  readonly pods: number;
  /** Due-based sampling on (the default). */
  readonly dueBased: boolean;
  /** @default 5 */
  readonly intervalMinutes?: number;
  /** @default DEFAULT_MAX_EXEC_STARTS_PER_SECOND */
  readonly maxExecStartsPerSecond?: number;
}

export interface SizingRow {
  readonly pods: number;
  readonly dueBased: boolean;
  readonly maxExecStartsPerSecond: number;
  /** Execs of the largest sweep. */
  readonly execsPerSweep: number;
  /** Pods sampled at once: enough to keep the exec budget busy at the mean latency with a tail. */
  readonly concurrency: number;
  /** Wall time of the largest sweep: execs at the budget's pace (or C/L̄, when lower), plus fixed work. */
  readonly sweepSeconds: number;
  readonly memoryMiB: number;
  readonly timeoutSeconds: number;
  /** The largest sweep ends within the timeout that the interval allows. */
  readonly fits: boolean;
  /** Execs one sweep can start at most: rate × (longest timeout − margin). */
  readonly ceilingExecsPerSweep: number;
  /** Lambda compute and requests for the sampler, per month, at the mean sweep. */
  readonly samplerUsdPerMonth: number;
}

const roundUp = (value: number, step: number): number => Math.ceil(value / step) * step;

export function sizeSampler(input: SizingInput): SizingRow {
  const b = SIZING_BENCHMARK;
  const intervalSeconds = (input.intervalMinutes ?? 5) * 60;
  const rate = input.maxExecStartsPerSecond ?? DEFAULT_MAX_EXEC_STARTS_PER_SECOND;
  const latencySeconds = b.execLatencyMeanMs / 1000;
  const share = (kind: 'max' | 'mean') => (input.dueBased ? (kind === 'max' ? b.dueExecShareMax : b.dueExecShareMean) : 1);
  const execsPerSweep = Math.ceil(input.pods * share('max'));
  // 16 (the default) when it finishes well within the window; else enough for the budget's pace with a 1.5× tail.
  const concurrency = execsPerSweep * latencySeconds / 16 <= 60 ? 16 : Math.min(64, roundUp(rate * latencySeconds * 1.5, 16));
  const paceSeconds = (execs: number) => execs / Math.min(rate, concurrency / latencySeconds);
  const sweepSeconds = paceSeconds(execsPerSweep) + FIXED_SECONDS;
  const longestTimeout = intervalSeconds - 20;
  const timeoutSeconds = Math.min(longestTimeout, Math.max(60, roundUp((sweepSeconds + DEADLINE_MARGIN_SECONDS) * 1.2, 20)));
  const cpuSeconds = (execsPerSweep * b.cpuMsPerExec + input.pods * b.cpuMsPerPodFromHistory) / 1000;
  // Memory for the peak RSS with headroom, and for the CPU: at most 70 % busy over the sweep.
  const forRss = (b.rssBaseMb + (input.pods / 1000) * b.rssPerThousandPodsMb) * 1.5;
  const forCpu = (cpuSeconds / (0.7 * sweepSeconds)) * MB_PER_VCPU;
  const memoryMiB = Math.max(512, roundUp(Math.max(forRss, forCpu), 256));
  const meanSweepSeconds = paceSeconds(Math.ceil(input.pods * share('mean'))) + FIXED_SECONDS;
  const sweepsPerMonth = (HOURS_PER_MONTH * 3600) / intervalSeconds;
  return {
    pods: input.pods,
    dueBased: input.dueBased,
    maxExecStartsPerSecond: rate,
    execsPerSweep,
    concurrency,
    sweepSeconds,
    memoryMiB,
    timeoutSeconds,
    fits: sweepSeconds + DEADLINE_MARGIN_SECONDS <= timeoutSeconds,
    ceilingExecsPerSweep: execsPerSweepCeiling({ maxExecStartsPerSecond: rate, timeoutSeconds: longestTimeout, ...DEFAULT_MARGINS }),
    samplerUsdPerMonth: sweepsPerMonth * (meanSweepSeconds * (memoryMiB / 1024) * PRICES.lambdaGbSecond + PRICES.lambdaRequest),
  };
}

/** The README's sizing rows, in order. */
export const SIZING_ROWS: readonly SizingInput[] = [
  { pods: 1_000, dueBased: true },
  { pods: 5_000, dueBased: true },
  { pods: 10_000, dueBased: true },
  { pods: 20_000, dueBased: true },
  { pods: 30_000, dueBased: true },
  { pods: 50_000, dueBased: true },
  { pods: 50_000, dueBased: true, maxExecStartsPerSecond: 90 },
  { pods: 10_000, dueBased: false },
  { pods: 50_000, dueBased: false },
];

/** One Markdown table row: pods | due-based | execs per sweep | concurrency | sweep | memory | timeout | cost. */
export function sizingTableRow(row: SizingRow): string {
  const n = (value: number) => value.toLocaleString('en-US');
  const fit = row.fits ? `${n(row.timeoutSeconds)} s` : `**does not fit** (> ${n(row.timeoutSeconds)} s)`;
  return `| ${n(row.pods)} | ${row.dueBased ? 'on' : 'off'} | ${row.maxExecStartsPerSecond} | ${n(row.execsPerSweep)} | ${row.concurrency} | ${Math.round(row.sweepSeconds)} s | ${n(row.memoryMiB)} MiB | ${fit} | $${row.samplerUsdPerMonth.toFixed(2)} |`;
}
