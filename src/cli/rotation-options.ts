/** The renewal flags `sweep --history` and `watch` share (docs/contract.md §8). */
import type { ParseArgsConfig } from 'node:util';
import { UsageError, describeError } from '../core/model/errors.js';
import { DEFAULT_RENEWAL_POLICY, type RenewalPolicy } from '../core/judgement/history.js';
import { parseThreshold } from '../core/model/threshold.js';
import { formatDuration } from '../core/render/render.js';

export const ROTATION_OPTIONS = {
  'renewal-interval': { type: 'string' },
  'renewal-slack': { type: 'string' },
  'istio-grace-ratio': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export interface RotationValues {
  'renewal-interval'?: string;
  'renewal-slack'?: string;
  'istio-grace-ratio'?: string;
}

export const ROTATION_HELP = `  --renewal-interval D     tbot's renewal_interval: a tbot leaf should be replaced D after
                           its notBefore                              [default ${formatDuration(DEFAULT_RENEWAL_POLICY.tbotRenewalIntervalSeconds)}]
  --istio-grace-ratio R    the Istio agent's SECRET_GRACE_PERIOD_RATIO: an agent leaf should be
                           replaced at (1 - R + ${DEFAULT_RENEWAL_POLICY.istioAgentGraceJitter}) of its life   [default ${DEFAULT_RENEWAL_POLICY.istioAgentGraceRatio}]
  --renewal-slack D        a leaf still unchanged D past its expected renewal point is
                           overdue ("stale")                          [default ${formatDuration(DEFAULT_RENEWAL_POLICY.slackSeconds)}]`;

/** True when any renewal flag was given. */
export function hasRotationFlags(values: RotationValues): boolean {
  return values['renewal-interval'] !== undefined || values['renewal-slack'] !== undefined || values['istio-grace-ratio'] !== undefined;
}

export function renewalPolicyFrom(values: RotationValues): RenewalPolicy {
  const ratioText = values['istio-grace-ratio'];
  let ratio = DEFAULT_RENEWAL_POLICY.istioAgentGraceRatio;
  if (ratioText !== undefined) {
    ratio = Number(ratioText);
    if (ratioText.trim() === '' || !(ratio > 0 && ratio < 1)) throw new UsageError('--istio-grace-ratio', `must be a number between 0 and 1 (exclusive), got "${ratioText}"`);
  }
  return {
    tbotRenewalIntervalSeconds: seconds('--renewal-interval', values['renewal-interval'], DEFAULT_RENEWAL_POLICY.tbotRenewalIntervalSeconds, 1),
    istioAgentGraceRatio: ratio,
    istioAgentGraceJitter: DEFAULT_RENEWAL_POLICY.istioAgentGraceJitter,
    slackSeconds: seconds('--renewal-slack', values['renewal-slack'], DEFAULT_RENEWAL_POLICY.slackSeconds, 0),
  };
}

/** A whole-second duration flag (`20m`, `90s`; `0s` allowed when `min` is 0). */
export function seconds(flag: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  if (min === 0 && /^0+[hms]?$/.test(text.trim())) return 0;
  let parsed;
  try {
    parsed = parseThreshold(text);
  } catch (error) {
    throw new UsageError(flag, describeError(error), { cause: error });
  }
  if (parsed.kind !== 'duration' || parsed.seconds < min) throw new UsageError(flag, `must be a duration such as 20m or 90s, got "${text}"`);
  return parsed.seconds;
}
