/**
 * `--stale-after` / `--expiring-within` values: a Go-style duration (`90s`, `36m`, `1h30m`) or a
 * share of the leaf certificate's own lifetime (`60%`).
 */
import { ThresholdError } from './errors.js';
import type { Threshold, Thresholds, ThresholdsReport } from './types.js';

const ACCEPTED_FORMS =
  'accepted forms: a positive duration in whole seconds such as 90s, 36m, 1h30m, 1.5h, 2h0m5s ' +
  '(units h, m, s, ms, us, ns), or a percentage of the certificate lifetime above 0% and below 100% such as 60% or 12.5%';

const NANOS_PER_UNIT: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n,
  'μs': 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const NANOS_PER_SECOND = 1_000_000_000n;
const DURATION_PATTERN = /^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/u;
const SEGMENT_PATTERN = /(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/gu;
const PERCENT_PATTERN = /^(\d+(?:\.\d+)?|\.\d+)%$/;

/**
 * Default allowance for a notBefore in the future (see docs/contract.md §3, `not-yet-valid`).
 * Peers' TLS stacks allow no skew at all; the allowance only absorbs the watcher's own clock
 * error and the instant of sampling. EKS nodes and Lambda keep time with the Amazon Time Sync
 * Service (errors far below a second), so one minute is generous, yet a leaf that peers reject
 * for longer than a minute is reported.
 */
export const DEFAULT_CLOCK_SKEW_ALLOWANCE_SECONDS = 60;
/** An allowance beyond this would hide a leaf that is unusable for most of a 1 h lifetime. */
export const MAX_CLOCK_SKEW_ALLOWANCE_SECONDS = 3600;

export const DEFAULT_THRESHOLDS: Thresholds = {
  staleAfter: { kind: 'percent', percent: 60, text: '60%' },
  expiringWithin: { kind: 'percent', percent: 20, text: '20%' },
};

/** Parses a threshold flag value; throws ThresholdError naming the bad text and the accepted forms. */
export function parseThreshold(text: string): Threshold {
  const trimmed = text.trim();
  const quoted = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
  const reject = (why: string): never => {
    throw new ThresholdError(`invalid threshold ${quoted}: ${why}; ${ACCEPTED_FORMS}`);
  };

  const percentMatch = PERCENT_PATTERN.exec(trimmed);
  if (percentMatch) {
    const percent = Number(percentMatch[1]);
    if (!(percent > 0 && percent < 100)) reject('a percentage must be above 0% and below 100%');
    return { kind: 'percent', percent, text: trimmed };
  }

  if (!DURATION_PATTERN.test(trimmed)) reject('not a duration or a percentage');

  // Exact integer arithmetic in nanoseconds, so `1.5h` is accepted and `500ms` is refused
  // rather than silently rounded.
  let nanos = 0n;
  for (const segment of trimmed.matchAll(SEGMENT_PATTERN)) {
    const [, whole = '', fraction = '', unit = ''] = segment;
    const unitNanos = NANOS_PER_UNIT[unit];
    if (unitNanos === undefined) return reject(`unknown unit ${JSON.stringify(unit)}`);
    const scale = 10n ** BigInt(fraction.length);
    const scaled = BigInt(`${whole}${fraction}` || '0') * unitNanos;
    if (scaled % scale !== 0n) reject('finer than one nanosecond');
    nanos += scaled / scale;
  }
  if (nanos % NANOS_PER_SECOND !== 0n) reject('not a whole number of seconds');
  const seconds = nanos / NANOS_PER_SECOND;
  if (seconds <= 0n) reject('a duration must be longer than 0s');
  if (seconds > BigInt(Number.MAX_SAFE_INTEGER)) reject('too long');
  return { kind: 'duration', seconds: Number(seconds), text: trimmed };
}

/**
 * The threshold in seconds for a leaf of the given lifetime. Percentages are not rounded
 * (multiplying first keeps whole results exact), so boundaries compare precisely.
 */
export function thresholdSeconds(threshold: Threshold, lifetimeSeconds: number): number {
  if (threshold.kind === 'duration') return threshold.seconds;
  return (Math.max(0, lifetimeSeconds) * threshold.percent) / 100;
}

export function formatThreshold(threshold: Threshold): string {
  return threshold.text;
}

export function formatThresholds(thresholds: Thresholds): ThresholdsReport {
  return {
    staleAfter: formatThreshold(thresholds.staleAfter),
    expiringWithin: formatThreshold(thresholds.expiringWithin),
    clockSkewAllowance: `${clockSkewAllowanceSeconds(thresholds)}s`,
  };
}

/** The clock-skew allowance in seconds, the default applied when the thresholds name none. */
export function clockSkewAllowanceSeconds(thresholds: Thresholds): number {
  return thresholds.clockSkewAllowanceSeconds ?? DEFAULT_CLOCK_SKEW_ALLOWANCE_SECONDS;
}

/**
 * Parses a clock-skew allowance: `0`/`0s` (no allowance, as peers apply) or a whole-second
 * duration up to one hour (`30s`, `1m`, `5m`). Throws ThresholdError naming the text.
 */
export function parseClockSkewAllowance(text: string): number {
  const trimmed = text.trim();
  if (/^0+(?:\.0*)?(?:ns|us|µs|μs|ms|s|m|h)?$/u.test(trimmed)) return 0;
  const quoted = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
  let threshold: Threshold;
  try {
    threshold = parseThreshold(trimmed);
  } catch (error) {
    throw new ThresholdError(`invalid clock-skew allowance ${quoted}: a whole-second duration such as 0s, 30s, 1m or 5m`, { cause: error });
  }
  if (threshold.kind !== 'duration') throw new ThresholdError(`invalid clock-skew allowance ${quoted}: a duration (such as 1m), not a percentage`);
  if (threshold.seconds > MAX_CLOCK_SKEW_ALLOWANCE_SECONDS) {
    throw new ThresholdError(`invalid clock-skew allowance ${quoted}: at most ${MAX_CLOCK_SKEW_ALLOWANCE_SECONDS / 60}m`);
  }
  return threshold.seconds;
}
