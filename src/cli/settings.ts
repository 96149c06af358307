/** Option parsing shared by `sweep` and `inspect`: thresholds, output format, durations, states. */
import type { ParseArgsConfig } from 'node:util';
import { UsageError, describeError } from '../core/model/errors.js';
import { DEFAULT_CLOCK_SKEW_ALLOWANCE_SECONDS, DEFAULT_THRESHOLDS, parseClockSkewAllowance, parseThreshold } from '../core/model/threshold.js';
import { STATES, type State, type Thresholds } from '../core/model/types.js';

export const THRESHOLD_HELP = `  --now ISO                evaluate as of this instant (default: now)
  --stale-after T          leaf older than T is "stale": duration (90s, 36m, 1h30m) or
                           share of the leaf lifetime (60%)      [default ${DEFAULT_THRESHOLDS.staleAfter.text}]
  --expiring-within T      leaf valid for less than T is "expiring"   [default ${DEFAULT_THRESHOLDS.expiringWithin.text}]
  --clock-skew-allowance D a leaf whose notBefore is more than D in the future is
                           "not-yet-valid" (0s to 1h)              [default ${DEFAULT_CLOCK_SKEW_ALLOWANCE_SECONDS}s]`;

export const COMMON_OPTIONS = {
  output: { type: 'string', short: 'o' },
  now: { type: 'string' },
  'stale-after': { type: 'string' },
  'expiring-within': { type: 'string' },
  'clock-skew-allowance': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export interface CommonValues {
  output?: string;
  now?: string;
  'stale-after'?: string;
  'expiring-within'?: string;
  'clock-skew-allowance'?: string;
}

export interface CommonSettings<Output extends string> {
  readonly output: Output;
  readonly now: Date | undefined;
  readonly thresholds: Thresholds;
}

export function commonSettings<Output extends string>(values: CommonValues, outputs: readonly Output[]): CommonSettings<Output> {
  const output = values.output ?? outputs[0]!;
  if (!(outputs as readonly string[]).includes(output)) {
    throw new UsageError('--output', `must be ${outputs.map((o) => `"${o}"`).join(', ').replace(/, ([^,]*)$/, ' or $1')}, got "${output}"`);
  }
  let now: Date | undefined;
  if (values.now !== undefined) {
    now = new Date(values.now);
    if (Number.isNaN(now.getTime())) throw new UsageError('--now', `not an ISO 8601 instant: "${values.now}"`);
  }
  return {
    output: output as Output,
    now,
    thresholds: {
      staleAfter: thresholdSetting('--stale-after', values['stale-after']) ?? DEFAULT_THRESHOLDS.staleAfter,
      expiringWithin: thresholdSetting('--expiring-within', values['expiring-within']) ?? DEFAULT_THRESHOLDS.expiringWithin,
      clockSkewAllowanceSeconds: clockSkewSetting(values['clock-skew-allowance']),
    },
  };
}

function clockSkewSetting(text: string | undefined): number {
  if (text === undefined) return DEFAULT_CLOCK_SKEW_ALLOWANCE_SECONDS;
  try {
    return parseClockSkewAllowance(text);
  } catch (error) {
    throw new UsageError('--clock-skew-allowance', describeError(error), { cause: error });
  }
}

export function thresholdSetting(flag: string, text: string | undefined) {
  if (text === undefined) return undefined;
  try {
    return parseThreshold(text);
  } catch (error) {
    throw new UsageError(flag, describeError(error), { cause: error });
  }
}

export function positiveInteger(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(flag, `must be a positive integer, got "${text}"`);
  return value;
}

const DURATION_FORMS = 'a duration in whole seconds such as 10s, 1m or 1m30s';

/** A duration flag: only what is accepted is named in the message (no percentages, no ms). */
export function durationMs(flag: string, text: string | undefined, fallbackMs: number): number {
  if (text === undefined) return fallbackMs;
  let seconds: number | undefined;
  if (!text.trim().endsWith('%')) {
    try {
      const parsed = parseThreshold(text);
      if (parsed.kind === 'duration') seconds = parsed.seconds;
    } catch {
      seconds = undefined;
    }
  }
  if (seconds === undefined) throw new UsageError(flag, `invalid duration ${JSON.stringify(text)}: must be ${DURATION_FORMS}`);
  return seconds * 1000;
}

export function stateSetting(flag: string, text: string | undefined): State | undefined {
  if (text === undefined) return undefined;
  if (!(STATES as readonly string[]).includes(text)) throw new UsageError(flag, `unknown state "${text}" (one of ${STATES.join(', ')})`);
  return text as State;
}
