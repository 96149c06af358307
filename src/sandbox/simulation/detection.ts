/**
 * Detection over time, modelled without Kubernetes but judged by the engine's own rotation code
 * (judgeRotation): a jittered healthy population swept on the deployment's schedule, to measure
 * the false-positive rate of "overdue for renewal", and pods with tbot's two renewal failures, to
 * measure time-to-detect with rotation history against the `--stale-after` threshold alone.
 *
 * Healthy pods (half tbot, half Istio agent, 1 h leaves):
 * - tbot issues a new leaf every `renewal_interval` (20 min) plus an issuance latency of up to
 *   90 s, and may backdate notBefore by up to 60 s (whether it does is not documented);
 * - the Istio agent rotates at (0.5 ± 0.01 jitter) of the leaf's life.
 * Broken pods (tbot): "renewed SVIDs not pushed" (the renewal timer re-sends the cached leaf every
 * 20 min) and "pushes stopped" (no push at all after issuance). Each starts at a random phase
 * against the sweep schedule. Deterministic for a seed.
 */
import { DEFAULT_RENEWAL_POLICY, judgeRotation, type PreviousObservation, type RenewalPolicy } from '../../core/judgement/history.js';
import type { Source } from '../../core/model/types.js';
import { seededRandom } from './random.js';

export interface DetectionSettings {
  readonly healthyPods: number;
  readonly brokenPods: number;
  readonly hours: number;
  readonly scheduleMinutes: number;
  readonly lifetimeMinutes: number;
  /** `--stale-after` as a share of the lifetime (what detects without history). */
  readonly staleAfterShare: number;
  readonly renewal: RenewalPolicy;
  readonly seed: number;
}

export interface DetectionStats {
  readonly pods: number;
  /** Minutes from the leaf's issue to the first sweep that flags it: min, median, max. */
  readonly minMinutes: number;
  readonly medianMinutes: number;
  readonly maxMinutes: number;
}

export interface DetectionResult {
  readonly settings: DetectionSettings;
  /** Healthy pod × sweep judgements, and how many were flagged overdue (false positives). */
  readonly healthyJudgements: number;
  readonly falsePositives: number;
  readonly falsePositiveRate: number;
  readonly detection: {
    readonly resentWithHistory: DetectionStats;
    readonly stoppedWithHistory: DetectionStats;
    /** Either failure without history: the leaf's age passes `--stale-after`. */
    readonly withoutHistory: DetectionStats;
  };
}

export function defaultDetectionSettings(overrides: Partial<DetectionSettings> = {}): DetectionSettings {
  return { healthyPods: 400, brokenPods: 200, hours: 24, scheduleMinutes: 5, lifetimeMinutes: 60, staleAfterShare: 0.6, renewal: DEFAULT_RENEWAL_POLICY, seed: 1, ...overrides };
}

interface Leaf {
  serial: string;
  notBeforeMs: number;
  notAfterMs: number;
}

const MINUTE = 60_000;

export function simulateDetection(settings: DetectionSettings): DetectionResult {
  const random = seededRandom(settings.seed);
  const lifetimeMs = settings.lifetimeMinutes * MINUTE;
  const scheduleMs = settings.scheduleMinutes * MINUTE;
  const endMs = settings.hours * 60 * MINUTE;
  let serials = 0;
  const issue = (atMs: number, backdateMs = 0): Leaf => ({ serial: `S${++serials}`, notBeforeMs: atMs - backdateMs, notAfterMs: atMs - backdateMs + lifetimeMs });
  const iso = (ms: number): string => new Date(ms).toISOString();

  // Healthy pods: walk each one's leaves and judge it at every sweep.
  let healthyJudgements = 0;
  let falsePositives = 0;
  for (let p = 0; p < settings.healthyPods; p++) {
    const source: Source = p % 2 === 0 ? 'tbot' : 'istio-agent';
    const nextRenewalMs = (leaf: Leaf, issuedMs: number): number =>
      source === 'tbot'
        ? issuedMs + settings.renewal.tbotRenewalIntervalSeconds * 1000 + random() * 90_000
        : leaf.notBeforeMs + lifetimeMs * (1 - settings.renewal.istioAgentGraceRatio + (random() * 2 - 1) * settings.renewal.istioAgentGraceJitter);
    // A random point of its cycle at the start.
    let issuedMs = -random() * (source === 'tbot' ? settings.renewal.tbotRenewalIntervalSeconds * 1000 : lifetimeMs / 2);
    let leaf = issue(issuedMs, source === 'tbot' ? random() * 60_000 : 0);
    let renewAtMs = nextRenewalMs(leaf, issuedMs);
    let previous: PreviousObservation | null = null;
    const phaseMs = random() * scheduleMs;
    for (let nowMs = phaseMs; nowMs < endMs; nowMs += scheduleMs) {
      while (renewAtMs <= nowMs) {
        issuedMs = renewAtMs;
        leaf = issue(issuedMs, source === 'tbot' ? random() * 60_000 : 0);
        renewAtMs = nextRenewalMs(leaf, issuedMs);
      }
      const observed = { serialNumber: leaf.serial, fingerprintSha256: leaf.serial, notBefore: iso(leaf.notBeforeMs), notAfter: iso(leaf.notAfterMs) };
      // A healthy server pushes exactly when it issues.
      const secret = { versionInfo: iso(issuedMs), lastUpdated: iso(issuedMs) };
      const judgement = judgeRotation({ nowMs, source, leaf: observed, defaultSecret: secret, history: { previous, renewal: settings.renewal } });
      healthyJudgements++;
      if (judgement.overdue) falsePositives++;
      previous = { ...observed, ...secret, observedAt: iso(nowMs) };
    }
  }

  // Broken tbot pods: one leaf issued at a random phase, never replaced.
  const resent: number[] = [];
  const stopped: number[] = [];
  const withoutHistory: number[] = [];
  for (let p = 0; p < settings.brokenPods; p++) {
    const issuedMs = random() * scheduleMs;
    const leaf = issue(issuedMs);
    const observed = { serialNumber: leaf.serial, fingerprintSha256: leaf.serial, notBefore: iso(leaf.notBeforeMs), notAfter: iso(leaf.notAfterMs) };
    const intervalMs = settings.renewal.tbotRenewalIntervalSeconds * 1000;
    for (const variant of ['resent', 'stopped'] as const) {
      let previous: PreviousObservation | null = null;
      for (let nowMs = 0; nowMs < issuedMs + lifetimeMs; nowMs += scheduleMs) {
        if (nowMs < issuedMs) continue;
        const pushMs = variant === 'resent' ? issuedMs + Math.floor((nowMs - issuedMs) / intervalMs) * intervalMs : issuedMs;
        const secret = { versionInfo: iso(pushMs), lastUpdated: iso(pushMs) };
        const judgement = judgeRotation({ nowMs, source: 'tbot', leaf: observed, defaultSecret: secret, history: { previous, renewal: settings.renewal } });
        if (judgement.overdue) {
          (variant === 'resent' ? resent : stopped).push((nowMs - issuedMs) / MINUTE);
          break;
        }
        previous = { ...observed, ...secret, observedAt: iso(nowMs) };
      }
    }
    // Without history: the first sweep at or past stale-after (the same for both failures).
    const staleAtMs = issuedMs + settings.staleAfterShare * lifetimeMs;
    withoutHistory.push((Math.ceil(staleAtMs / scheduleMs) * scheduleMs - issuedMs) / MINUTE);
  }

  return {
    settings,
    healthyJudgements,
    falsePositives,
    falsePositiveRate: healthyJudgements === 0 ? 0 : falsePositives / healthyJudgements,
    detection: { resentWithHistory: stats(resent), stoppedWithHistory: stats(stopped), withoutHistory: stats(withoutHistory) },
  };
}

function stats(minutes: readonly number[]): DetectionStats {
  const sorted = [...minutes].sort((a, b) => a - b);
  const round = (n: number): number => Math.round(n * 10) / 10;
  if (sorted.length === 0) return { pods: 0, minMinutes: Number.NaN, medianMinutes: Number.NaN, maxMinutes: Number.NaN };
  return {
    pods: sorted.length,
    minMinutes: round(sorted[0]!),
    medianMinutes: round(sorted[Math.floor(sorted.length / 2)]!),
    maxMinutes: round(sorted[sorted.length - 1]!),
  };
}

/** The `simulate` section: false-positive rate and time-to-detect. */
export function renderDetection(result: DetectionResult): string {
  const { settings, detection } = result;
  const row = (name: string, s: DetectionStats): string =>
    `  ${name.padEnd(44)} ${String(s.minMinutes).padStart(5)} ${String(s.medianMinutes).padStart(7)} ${String(s.maxMinutes).padStart(5)}   (${s.pods} pods)`;
  return [
    `detection (rotation history, a sweep every ${settings.scheduleMinutes} min, tbot renewal_interval ${settings.renewal.tbotRenewalIntervalSeconds / 60} min, slack ${settings.renewal.slackSeconds / 60} min):`,
    `  false positives: ${result.falsePositives} of ${result.healthyJudgements.toLocaleString('en-US')} judgements of healthy pods rotating with jitter ` +
      `(${(result.falsePositiveRate * 100).toFixed(3)} %; ${settings.healthyPods} pods, half tbot, half Istio agent, ${settings.hours} h)`,
    `  time to detect, minutes after the leaf was issued    min  median   max`,
    row('tbot re-sends its cached leaf, with history', detection.resentWithHistory),
    row('tbot stopped pushing, with history', detection.stoppedWithHistory),
    row(`either, without history (stale-after ${Math.round(settings.staleAfterShare * 100)} %)`, detection.withoutHistory),
  ].join('\n');
}
